"""Batch throughput over many images: a single-image loop against the batch job modes.

    python benchmarks/bench_batch.py --images ../shared/datasets/im2latex100k/val/images --num 1000

Modes, all over the same images in one run: `loop` (Recognizer.recognize one at a time, 2 threads),
`batch` (run_to_file: batches of 32, one process, 2 threads) and `workers` (2 processes of 1
thread each). Prints images/s per mode.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from mathlens.api import Recognizer
from mathlens.errors import MathlensError
from mathlens.jobs.batch import JobSettings, run_to_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--num", type=int, default=1000)
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--beam", type=int, default=1, help="beam size in every mode (default 1: greedy)")
    parser.add_argument("--single-view", dest="views", action="store_false", help="read each image once")
    args = parser.parse_args()
    paths = sorted(args.images.glob("*.png"), key=lambda p: (len(p.stem), p.stem))[: args.num]
    rates = {}
    recognizer = Recognizer(args.model_dir, num_threads=2, beam_size=args.beam, views=args.views)
    start = time.perf_counter()
    for path in paths:
        try:
            recognizer.recognize(path)
        except MathlensError:  # a few validation images are blank; the batch modes report them too
            pass
    rates["loop (1 process, 2 threads, 1 image at a time)"] = len(paths) / (time.perf_counter() - start)
    for name, settings, workers in [("batch (1 process, 2 threads, batches of 32)", JobSettings(args.model_dir, args.beam, 2, 32, args.views), 1),
                                    ("workers (2 processes x 1 thread, batches of 32)", JobSettings(args.model_dir, args.beam, 1, 32, args.views), 2)]:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run_to_file(paths, Path(tmp) / "out.jsonl", settings, workers)
            rates[name] = len(paths) / (time.perf_counter() - start)
    views = "several views" if args.views else "single view"
    print(f"{len(paths)} images from {args.images}, beam {args.beam}, {views}\n\n| mode | images/s |\n|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:.1f} |")


if __name__ == "__main__":
    main()
