"""Manifests: JSONL records `{"image": path, "tokens": [...]}` (paths relative to the file)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mathlens.errors import LatexSyntaxError
from mathlens.tokenizer.lexer import from_im2markup
from mathlens.tokenizer.normalize import normalize, normalize_tokens


@dataclass(frozen=True)
class Record:
    image_path: Path
    tokens: tuple[str, ...]
    source: str = ""
    dpi: float | None = None  # render resolution, when the image was rendered by us


def read_manifest(path: Path, limit: int | None = None) -> list[Record]:
    """Records with their tokens in the current canonical form: a cached render may predate a
    normalizer change, and targets must match what scoring compares."""
    records = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if limit is not None and len(records) >= limit:
                break
            raw = json.loads(line)
            tokens = tuple(normalize_tokens(raw["tokens"]))
            records.append(Record(path.parent / raw["image"], tokens, raw.get("source", ""), raw.get("dpi")))
    return records


def write_part(folder: Path, records: list[dict]) -> None:
    """A render chunk's manifest, written last and whole: a chunk with one is done (renders resume)."""
    tmp = folder / "manifest.jsonl.tmp"
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    tmp.replace(folder / "manifest.jsonl")


def merge_parts(out_dir: Path, folders: Iterable[str]) -> Path:
    """`out_dir/manifest.jsonl`: the chunks' manifests in order (paths stay relative to out_dir)."""
    merged = out_dir / "manifest.jsonl"
    with merged.open("w", encoding="utf-8") as out:
        for name in folders:
            part = out_dir / name / "manifest.jsonl"
            if part.exists():
                out.write(part.read_text(encoding="utf-8"))
    return merged


def write_manifest(path: Path, records: list[Record]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({"image": str(r.image_path), "tokens": list(r.tokens), "source": r.source,
                                "dpi": r.dpi},
                               ensure_ascii=False) + "\n")


def im2latex_records(split_dir: Path, limit: int | None = None) -> list[Record]:
    """im2latex-100k split (`images/`, `formulas.norm.txt`, `matching.txt`) as normalized records."""
    formulas = (split_dir / "formulas.norm.txt").read_text(encoding="utf-8").split("\n")
    records = []
    for line in (split_dir / "matching.txt").read_text(encoding="utf-8").splitlines():
        image_name, index = line.split()
        try:
            tokens = normalize(from_im2markup(formulas[int(index)]))
        except LatexSyntaxError:
            continue
        records.append(Record((split_dir / "images" / image_name).resolve(), tuple(tokens), "im2latex100k"))
        if limit is not None and len(records) >= limit:
            break
    return records
