"""`mathlens bench DIR [DIR ...] --out OUT`: the benchmark sets on disk, scored for any backend.

Finds the sets in each folder by their published layouts (`mathlens.bench.sets`), reads each as
`mathlens eval` reads a folder (the same figures), and writes Uni-MuMER's `<set>_pred.json` and
`<set>_results.txt` beside eval's files, then a summary table (stdout and OUT/summary.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mathlens.cli import add_decode_arguments
from mathlens.cli.backend import add_backend_arguments, vlm_predictor


def add_parser(sub: Any) -> None:
    p = sub.add_parser("bench", help="score a model on benchmark folders (CROHME, HME100K, MNE, MathWriting, ...)")
    p.add_argument("dirs", nargs="+", type=Path, help="benchmark folders, each holding one set or several")
    p.add_argument("--out", type=Path, required=True, help="where <set>_pred.json, <set>_results.txt and summary.md go")
    p.add_argument("--limit", type=int, default=None, help="first N samples of each set only")
    p.add_argument("--list", action="store_true", help="only list the sets found (name, layout, samples)")
    add_decode_arguments(p)
    p.add_argument("--model-dir", type=Path, default=None, help="the small model's folder (default: shipped model)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64, help="images read together (as `mathlens eval`)")
    add_backend_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mathlens.api import Recognizer
    from mathlens.bench.report import run_bench, summary_table
    from mathlens.bench.sets import find_sets
    from mathlens.errors import MathlensError

    if args.beam < 1 or args.threads < 1 or args.batch_size < 1 or (args.limit is not None and args.limit < 1):
        raise MathlensError("--beam, --threads, --batch-size and --limit must be at least 1")
    sets = [s for folder in args.dirs for s in find_sets(folder)]
    names = [s.name for s in sets]
    if len(set(names)) < len(names):
        raise MathlensError(f"two sets share a name ({', '.join(sorted({n for n in names if names.count(n) > 1}))}): "
                            "bench them into different --out folders")
    if args.list:
        for s in sets:
            print(f"{s.name}\t{s.layout}\t{len(s.samples)}")
        return 0
    recognizer = Recognizer(args.model_dir, beam_size=args.beam, num_threads=args.threads, views=args.views,
                            predictor=vlm_predictor(args))
    total = sum(min(len(s.samples), args.limit or len(s.samples)) for s in sets)
    with tqdm(total=total, unit="img", file=sys.stderr, disable=None) as bar:
        results = run_bench(lambda paths: recognizer.recognize_batch(paths, errors="return"), sets, args.out,
                            batch_size=args.batch_size, limit=args.limit, progress=bar.update)
    print(summary_table(results), end="")
    return 0
