"""`mathlens predict PATH [PATH ...]`: LaTeX for each image or InkML file.

Prints to stdout (plain, or one JSON object per line with --jsonl), or appends to a JSONL/CSV
file with --output, which makes the run resumable: rerun the same command after an interruption
and only the inputs not yet read are done, failed ones again (jobs/batch.py: the last line of a
path is its result). Exit code 2 when any input of this run failed, or when the paths hold no input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mathlens.cli import add_decode_arguments
from mathlens.cli.backend import add_backend_arguments, vlm_config

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".inkml"}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("predict", help="recognize formula images and InkML files")
    p.add_argument("paths", nargs="+", type=Path, help="files or directories (walked recursively)")
    p.add_argument("--jsonl", action="store_true",
                   help='one JSON object per input: {"path", "latex", "confidence"} and "unsure" (why) when '
                        'the reading should not be trusted, or {"path", "error"}')
    p.add_argument("--output", type=Path, default=None,
                   help="append results to this .jsonl or .csv file; a rerun skips the inputs already read "
                        "and tries the failed ones again")
    add_decode_arguments(p)
    p.add_argument("--workers", type=int, default=1, help="worker processes, each with its own model")
    p.add_argument("--threads", type=int, default=2, help="onnxruntime threads per process")
    p.add_argument("--batch-size", type=int, default=32, help="images decoded together")
    p.add_argument("--model-dir", type=Path, default=None, help="exported model directory (default: shipped model)")
    p.add_argument("--no-page-check", dest="page_check", action="store_false",
                   help="read every picture as one formula; by default (with mathlens[page] installed) a picture of "
                        "text around a formula has its formula read alone, and one with several is refused")
    add_backend_arguments(p)
    p.set_defaults(run=run)


def expand_paths(paths: list[Path]) -> Iterator[Path]:
    """Files as given; directories walked recursively for image and InkML files, in sorted order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        else:
            yield path


def find_inputs(paths: list[Path]) -> list[Path]:
    """expand_paths, saying which directories hold no input: a wrong folder must not pass for a
    finished job. Raises MathlensError (exit 2) when there is nothing at all to read."""
    from mathlens.errors import MathlensError

    inputs = []
    empty = []
    for path in paths:
        found = list(expand_paths([path]))
        if not found:
            empty.append(str(path))
        inputs += found
    if not inputs:
        raise MathlensError(f"no images or InkML files in {', '.join(empty)}")
    for folder in empty:
        print(f"mathlens: no images or InkML files in {folder}", file=sys.stderr)
    return inputs


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mathlens.errors import MathlensError
    from mathlens.jobs.batch import JobSettings, run_batch, run_to_file

    if args.beam < 1 or args.workers < 1 or args.threads < 1 or args.batch_size < 1:
        raise MathlensError("--beam, --workers, --threads and --batch-size must be at least 1")
    inputs = find_inputs(args.paths)
    settings = JobSettings(args.model_dir, args.beam, args.threads, args.batch_size, args.views, args.page_check,
                           vlm=vlm_config(args))
    with tqdm(total=len(inputs), unit="img", file=sys.stderr, disable=len(inputs) < 10 or None) as bar:
        if args.output is not None:
            summary = run_to_file(inputs, args.output, settings, args.workers, progress=bar.update)
            bar.close()
            print(f"mathlens: {summary.describe(args.output)}", file=sys.stderr)
            return 2 if summary.num_failed else 0
        num_failed = 0
        for records in run_batch(inputs, settings, args.workers):
            for record in records:
                num_failed += "error" in record
                _emit(record, args.jsonl, single=len(inputs) == 1)
            sys.stdout.flush()
            bar.update(len(records))
    return 2 if num_failed else 0


def _emit(record: dict[str, Any], as_json: bool, single: bool) -> None:
    """One result on stdout; errors, and why a reading should not be trusted, on stderr (the
    LaTeX is still printed: the reader decides, warned)."""
    if as_json:
        print(json.dumps(record, ensure_ascii=False))
    elif "error" in record:
        print(f"mathlens: {record['path']}: {record['error']}", file=sys.stderr)
    else:
        if record.get("unsure"):
            print(f"mathlens: {record['path']}: unsure: {record['unsure']}", file=sys.stderr)
        print(record["latex"] if single else f"{record['path']}\t{record['latex']}")
