"""Benchmark sets found in the folders a user has on disk, in their published layouts.

One folder may hold one set or many; each layout is recognised by its files:

- Uni-MuMER's `data/<NAME>/prompts/*.json` (LLaMA-Factory ShareGPT records: `images`, a `human`
  prompt, the `gpt` answer): one set a JSON file, named by it (`crohme_2014`), as its eval does;
  the image paths it records (`./data/CROHME/2014/images/x.jpg`) are found under the folder.
- a caption file beside an image folder: CoMER/PosFormer/TAMER (`img/` + `caption.txt`, CROHME
  2014/2016/2019, MNE N1-N3), Uni-MuMER's `images/` + `caption.txt`, HME100K's
  `test_images/` + `test_labels.txt` (`<split>_labels.txt` with `<split>_images/`), `labels.tsv`;
  lines `name<TAB or space>latex`, the name with or without its extension.
- an im2latex-style split (`images/`, `formulas.norm.txt`, `matching.txt`).
- a folder of InkML files that carry their label (MathWriting's `test/`, `valid/`: `normalizedLabel`).

A folder with none of these is searched one level down, and again, to `MAX_DEPTH`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from mathlens.errors import InvalidInputError, MathlensError
from mathlens.inference.inkml import parse_inkml
from mathlens.metrics.evaluate import Sample, load_samples, read_captions

logger = logging.getLogger(__name__)

MAX_DEPTH = 3
CAPTION_FILES = ("caption.txt", "captions.txt", "labels.txt", "labels.tsv")
IMAGE_DIRS = ("img", "images", "imgs")


@dataclass(frozen=True)
class BenchSet:
    name: str  # names its output files: <name>_pred.json, <name>_results.txt
    layout: str  # which layout it was read as (say so in the summary)
    samples: tuple[Sample, ...]


def find_sets(root: Path) -> list[BenchSet]:
    """Every set under `root`; InvalidInputError when there is none (a wrong folder must not pass)."""
    if not root.is_dir():
        raise InvalidInputError(f"{root}: not a folder")
    found = _search(root, root, 0)
    if not found:
        raise InvalidInputError(f"{root}: no benchmark set (caption.txt beside img/ or images/, <split>_labels.txt, "
                                f"prompts/*.json, matching.txt, or labelled InkML files) within {MAX_DEPTH} levels")
    return found


def _search(folder: Path, root: Path, depth: int) -> list[BenchSet]:
    here = sets_in(folder, _set_name(folder, root))
    if here or depth >= MAX_DEPTH:
        return here
    children = sorted(d for d in folder.iterdir() if d.is_dir() and d.name not in IMAGE_DIRS)
    return [s for child in children for s in _search(child, root, depth + 1)]


def _set_name(folder: Path, root: Path) -> str:
    """`test2014` for the folder given, `CROHME_2014` for `2014` found inside `CROHME`."""
    parts = (root.resolve().name, *folder.relative_to(root).parts) if folder != root else (folder.resolve().name,)
    return "_".join(parts)


def sets_in(folder: Path, name: str) -> list[BenchSet]:
    """The sets `folder` itself holds, by the first layout that fits."""
    prompts = sorted((folder / "prompts").glob("*.json")) if (folder / "prompts").is_dir() else []
    if prompts:
        return [BenchSet(p.stem, "uni-mumer prompts", read_prompts(p, folder)) for p in prompts]
    if (folder / "matching.txt").is_file() and (folder / "formulas.norm.txt").is_file():
        return [BenchSet(name, "im2latex split", tuple(load_samples(folder)))]
    caption = next((folder / f for f in CAPTION_FILES if (folder / f).is_file()), None)
    if caption is not None:
        image_dir = next((folder / d for d in IMAGE_DIRS if (folder / d).is_dir()), folder)
        return [BenchSet(name, f"{caption.name} + {image_dir.name}/", read_captions(caption, image_dir))]
    split_sets = [BenchSet(f"{name}_{split}", f"{label.name} + {image_dir.name}/", read_captions(label, image_dir))
                  for label, image_dir, split in _split_labels(folder)]
    if split_sets:
        return split_sets
    inkml = sorted(folder.glob("*.inkml"))
    if inkml:
        return [BenchSet(name, "labelled InkML", read_inkml_labels(inkml))]
    return []


def _split_labels(folder: Path) -> list[tuple[Path, Path, str]]:
    """HME100K's `test_labels.txt` with `test_images/` (or `test/`): (labels, images, split)."""
    out = []
    for label in sorted(folder.glob("*_labels.txt")) + sorted(folder.glob("*_caption.txt")):
        split = label.stem.rsplit("_", 1)[0]
        candidates = (f"{split}_images", split, f"{split}_img")
        image_dir = next((folder / d for d in candidates if (folder / d).is_dir()), None)
        if image_dir is not None:
            out.append((label, image_dir, split))
    return out


def read_prompts(prompts: Path, folder: Path) -> tuple[Sample, ...]:
    """Uni-MuMER's test prompts: the image and the `gpt` answer of each record."""
    try:
        records = json.loads(prompts.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise MathlensError(f"{prompts}: not JSON ({err})") from None
    if not isinstance(records, list):
        raise MathlensError(f"{prompts}: expected a list of records")
    samples = []
    for record in records:
        images = record.get("images") or [] if isinstance(record, dict) else []
        answers = [m.get("value", "") for m in record.get("messages", []) if m.get("from") in ("gpt", "assistant")] \
            if images else []
        if images and answers:
            samples.append(Sample(locate(images[0], folder), answers[-1].strip()))
    return tuple(samples)


def locate(recorded: str, folder: Path) -> Path:
    """An image path as a prompts file records it (relative to Uni-MuMER's checkout) under `folder`:
    `./data/CROHME/2014/images/x.jpg` -> `<folder>/2014/images/x.jpg`."""
    path = Path(recorded)
    if path.is_absolute() and path.is_file():
        return path
    parts = path.parts
    name = folder.resolve().name
    if name in parts:
        return folder.joinpath(*parts[parts.index(name) + 1:])
    return folder / path


def read_inkml_labels(files: list[Path]) -> tuple[Sample, ...]:
    """InkML files with their own label (MathWriting `normalizedLabel`, CROHME `truth`); unlabelled ones left out."""
    samples = []
    for path in files:
        try:
            label = parse_inkml(path).label
        except InvalidInputError as err:
            logger.warning("%s: %s", path, err)
            continue
        if label:
            samples.append(Sample(path, label.strip().strip("$").strip()))
    return tuple(samples)
