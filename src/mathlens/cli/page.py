"""`mathlens page FILE [FILE ...]`: pages and PDFs to Markdown (or JSON, one object per page).

Markdown goes to stdout, pages separated by a rule; `--out DIR` writes one `.md` (or `.jsonl`)
per input instead, and a rerun skips the inputs already written. An input with a page that
failed is written with what was read plus a note per failed page, and is read again on a rerun
(its `.errors.json` says which pages failed). Exit code 2 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

PAGE_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}
RULE = "\n\n---\n\n"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("page", help="read whole pages and PDFs into Markdown (needs mathlens[page])")
    p.add_argument("paths", nargs="+", type=Path, help="page images, PDFs, or directories of them")
    p.add_argument("--pages", default=None, metavar="RANGE", help='PDF pages to read, e.g. "2-5" or "1,3,7-" (default: all)')
    p.add_argument("--dpi", type=float, default=150, help="resolution PDF pages are rendered at (default 150)")
    p.add_argument("--max-pages", type=int, default=200, help="refuse PDFs with more pages than this unless --pages picks fewer")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown",
                   help='markdown, or one JSON object per page: {"path", "page", "width", "height", "dpi", "blocks", "markdown"}')
    p.add_argument("--out", type=Path, default=None, help="write one .md (.jsonl with --format json) per input here; resumable")
    p.add_argument("--text", choices=("auto", "ocr"), default="auto",
                   help="auto: a PDF's text layer where it has one, OCR elsewhere; ocr: always OCR")
    p.add_argument("--beam", type=int, default=1, metavar="N", help="beam size for the formulas (default 1: greedy, fast)")
    p.add_argument("--threads", type=int, default=2, help="threads for the models")
    p.set_defaults(run=run)


def find_pages(paths: list[Path]) -> list[Path]:
    from mathlens.errors import MathlensError

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.suffix.lower() in PAGE_SUFFIXES and p.is_file())
            if not inside:
                print(f"mathlens: no page images or PDFs in {path}", file=sys.stderr)
            found += inside
        else:
            found.append(path)
    if not found:
        raise MathlensError("no page images or PDFs to read")
    return found


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mathlens.config import DecodeConfig
    from mathlens.errors import MathlensError
    from mathlens.pages.reader import PageConfig, PageReader

    if args.beam < 1 or args.threads < 1 or args.max_pages < 1 or args.dpi <= 0:
        raise MathlensError("--beam, --threads and --max-pages must be at least 1, --dpi positive")
    inputs = find_pages(args.paths)
    outputs = _output_paths(inputs, args.out, args.format) if args.out else {}
    config = PageConfig(dpi=args.dpi, max_pages=args.max_pages, text=args.text, num_threads=args.threads,
                        decode=DecodeConfig(beam_size=args.beam, views=False))
    reader = PageReader(config)
    failed = 0
    first = True
    with tqdm(unit="page", file=sys.stderr, disable=None) as bar:
        for path in inputs:
            target = outputs.get(path)
            if target is not None and target.exists() and not _errors_file(target).exists():
                continue
            results = []
            try:
                for result in reader.read(path, pages=args.pages):
                    bar.update(1)
                    results.append(result)
                    if result.error:
                        print(f"mathlens: {path}: page {result.page}: {result.error}", file=sys.stderr)
                    if target is None:
                        _print(result, args.format, first)
                        first = False
            except MathlensError as err:
                failed += 1
                message = str(err).removeprefix(f"{path}: ")  # the file is named once
                print(f"mathlens: {path}: {message}", file=sys.stderr)
                if target is None and args.format == "json":
                    print(json.dumps({"path": str(path), "page": None, "error": message}, ensure_ascii=False))
                continue
            failed += any(r.error for r in results)
            if target is not None:
                _write(target, results, args.format)
    if args.out:
        print(f"mathlens: wrote {args.out}", file=sys.stderr)
    return 2 if failed else 0


def _output_paths(inputs: list[Path], out: Path, fmt: str) -> dict[Path, Path]:
    from mathlens.errors import MathlensError

    suffix = ".jsonl" if fmt == "json" else ".md"
    targets = {path: out / f"{path.stem}{suffix}" for path in inputs}
    clashes = len(set(targets.values())) < len(targets)
    if clashes:
        raise MathlensError("two inputs share a file name, so their outputs would overwrite each other; "
                            "read them into different --out folders")
    out.mkdir(parents=True, exist_ok=True)
    return targets


def _print(result, fmt: str, first: bool) -> None:
    if fmt == "json":
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        text = result.markdown if result.error is None else f"<!-- page {result.page}: {result.error} -->"
        print(("" if first else RULE.strip("\n") + "\n\n") + text + "\n")
    sys.stdout.flush()


def _errors_file(target: Path) -> Path:
    return target.with_name(target.name + ".errors.json")


def _write(target: Path, results: list, fmt: str) -> None:
    """The input's pages, written whole (a temporary file renamed), and which failed beside it."""
    if fmt == "json":
        text = "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in results)
    else:
        text = RULE.join(r.markdown if r.error is None else f"<!-- page {r.page}: {r.error} -->" for r in results) + "\n"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    errors = {r.page: r.error for r in results if r.error}
    if errors:
        _errors_file(target).write_text(json.dumps(errors, indent=1) + "\n")
    else:
        _errors_file(target).unlink(missing_ok=True)
