"""What the derived validation sets share: their arguments and the im2latex-100k formulas in a fixed order."""

from __future__ import annotations

import argparse
import random
import shutil
from collections.abc import Callable
from pathlib import Path


def parse_args(description: str, out: str, seed: int, num: int = 300,
               extra: Callable[[argparse.ArgumentParser], object] | None = None) -> argparse.Namespace:
    """The shared arguments (plus what `extra` adds); the output folder is emptied first."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--split", type=Path, default=Path("../shared/datasets/im2latex100k/val"))
    parser.add_argument("--num", type=int, default=num)
    parser.add_argument("--out", type=Path, default=Path(out))
    parser.add_argument("--seed", type=int, default=seed)
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    if args.out.exists():  # a set is rebuilt whole, never mixed with an older one
        shutil.rmtree(args.out)
    return args


def shuffled_formulas(split: Path, seed: int) -> tuple[list[int], list[str]]:
    """Formula indices of the split's images in a seeded random order, and the normalized formulas."""
    formulas = (split / "formulas.norm.txt").read_text(encoding="utf-8").split("\n")
    indices = [int(line.split()[1]) for line in (split / "matching.txt").read_text().splitlines()]
    random.Random(seed).shuffle(indices)
    return indices, formulas


def write_labels(out: Path, labels: list[str]) -> None:
    """`labels.tsv` in the layout `mathlens eval` reads: `images/NAME.png<TAB>formula` per line."""
    (out / "labels.tsv").write_text("\n".join(labels) + "\n", encoding="utf-8")
