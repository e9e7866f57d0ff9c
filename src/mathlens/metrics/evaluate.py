"""Evaluate a recognizer on labelled images: predictions JSONL + a results JSON.

Label layouts understood: im2latex-100k splits (`formulas.norm.txt` + `matching.txt`), and a
folder with `caption.txt` / `labels.tsv` (`name<TAB or space>latex`, CROHME style), where name
may omit the image extension.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mathlens.errors import InvalidInputError, LatexSyntaxError
from mathlens.metrics.text import Scores, score
from mathlens.tokenizer.lexer import from_im2markup, tokenize
from mathlens.tokenizer.normalize import normalize

LABEL_FILES = ("caption.txt", "labels.tsv", "labels.txt")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".inkml")


@dataclass(frozen=True)
class Sample:
    image_path: Path
    reference: str  # LaTeX as given by the dataset


def canonical(latex: str) -> list[str]:
    """Normalized tokens; LaTeX the normalizer cannot parse is compared as plain tokens/characters."""
    try:
        return normalize(latex)
    except LatexSyntaxError:
        pass
    try:
        return tokenize(latex)
    except LatexSyntaxError:  # e.g. a trailing backslash
        return [c for c in latex if not c.isspace()]


def load_samples(data_dir: Path, limit: int | None = None) -> list[Sample]:
    if (data_dir / "matching.txt").is_file():
        formulas = (data_dir / "formulas.norm.txt").read_text(encoding="utf-8").split("\n")
        lines = (data_dir / "matching.txt").read_text(encoding="utf-8").splitlines()
        samples = [Sample(data_dir / "images" / name, from_im2markup(formulas[int(idx)]))
                   for name, idx in (line.split() for line in lines)]
    else:
        label_file = next((data_dir / f for f in LABEL_FILES if (data_dir / f).is_file()), None)
        if label_file is None:
            raise InvalidInputError(f"{data_dir}: no matching.txt or {'/'.join(LABEL_FILES)} with labels")
        image_dir = data_dir / "img" if (data_dir / "img").is_dir() else data_dir
        samples = list(read_captions(label_file, image_dir))
    return samples[:limit] if limit is not None else samples


def evaluate(
    recognize_batch: Callable[[list[Path]], list],  # returns Predictions with .latex/.confidence/.error
    samples: list[Sample],
    out_dir: Path,
    name: str,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> Scores:
    """Predict every sample, write `<name>_pred.jsonl` and `<name>_results.json`, return the scores."""
    out_dir.mkdir(parents=True, exist_ok=True)
    refs: list[list[str]] = []
    hyps: list[list[str]] = []
    started = time.perf_counter()
    with (out_dir / f"{name}_pred.jsonl").open("w", encoding="utf-8") as pred_file:
        for start in range(0, len(samples), batch_size):
            chunk = samples[start: start + batch_size]
            for sample, pred in zip(chunk, recognize_batch([s.image_path for s in chunk])):
                ref, hyp = canonical(sample.reference), canonical(pred.latex) if pred.error is None else []
                refs.append(ref)
                hyps.append(hyp)
                pred_file.write(json.dumps({"path": str(sample.image_path), "reference": sample.reference,
                                            "latex": pred.latex, "confidence": pred.confidence,
                                            "error": pred.error, "correct": ref == hyp}, ensure_ascii=False) + "\n")
            if progress:
                progress(len(chunk))
    scores = score(refs, hyps)
    results = {"name": name, **scores.as_dict(), "seconds": round(time.perf_counter() - started, 1)}
    (out_dir / f"{name}_results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return scores


def read_captions(caption: Path, image_dir: Path) -> tuple[Sample, ...]:
    """`name<TAB or space>latex` lines. A name may omit its extension (CROHME captions do) or give
    another one than the file has (a caption written for PNGs beside JPEGs); names may hold folders."""
    samples = []
    for line in caption.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        name, _, latex = line.replace("\t", " ", 1).partition(" ")
        samples.append(Sample(find_image(image_dir / name), latex.strip()))
    return tuple(samples)


def find_image(path: Path) -> Path:
    """The file a caption's name means; the name as given when there is none (reported when read)."""
    if path.is_file():
        return path
    stems = [path.name] + ([path.stem] if path.suffix.lower() in IMAGE_SUFFIXES else [])
    return next((p for stem in stems for p in (path.parent / f"{stem}{s}" for s in IMAGE_SUFFIXES) if p.is_file()),
                path)
