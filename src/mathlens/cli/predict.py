"""`mathlens predict PATH [PATH ...]`: LaTeX for each image, plain or one JSON object per line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".inkml"}
CHUNK = 64  # inputs preprocessed and decoded together; results are printed after each chunk


def add_parser(sub: Any) -> None:
    p = sub.add_parser("predict", help="recognize formula images")
    p.add_argument("paths", nargs="+", type=Path, help="image files or directories of images")
    p.add_argument("--jsonl", action="store_true", help='one JSON object per input: {"path", "latex", "confidence"}')
    p.add_argument("--beam", type=int, default=1, metavar="N", help="beam size (1 = greedy, the default)")
    p.add_argument("--model-dir", type=Path, default=None, help="exported model directory (default: shipped model)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for onnxruntime")
    p.set_defaults(run=run)


def expand_paths(paths: list[Path]) -> Iterator[Path]:
    """Files as given; directories walked recursively for image files, in sorted order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        else:
            yield path


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mathlens.api import Recognizer

    inputs = list(expand_paths(args.paths))
    recognizer = Recognizer(args.model_dir, beam_size=args.beam, num_threads=args.threads)
    num_failed = 0
    with tqdm(total=len(inputs), unit="img", file=sys.stderr, disable=len(inputs) < 10 or None) as bar:
        for start in range(0, len(inputs), CHUNK):
            chunk = inputs[start: start + CHUNK]
            for path, pred in zip(chunk, recognizer.recognize_batch(chunk, errors="return")):
                num_failed += pred.error is not None
                _emit(path, pred, args.jsonl, single=len(inputs) == 1)
            sys.stdout.flush()
            bar.update(len(chunk))
    return 2 if num_failed else 0


def _emit(path: Path, pred: Any, as_json: bool, single: bool) -> None:
    if as_json:
        record = ({"path": str(path), "error": pred.error} if pred.error is not None
                  else {"path": str(path), "latex": pred.latex, "confidence": pred.confidence})
        print(json.dumps(record, ensure_ascii=False))
    elif pred.error is not None:
        print(f"mathlens: {path}: {pred.error}", file=sys.stderr)
    else:
        print(pred.latex if single else f"{path}\t{pred.latex}")
