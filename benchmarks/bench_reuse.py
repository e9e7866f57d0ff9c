"""Printed latency with and without reading from the style probe's encoder pass, in one run.

    python benchmarks/bench_reuse.py --images ../shared/datasets/im2latex100k/val/images --num 100

Each picture is read both ways in turn (the same machine state for both); prints the medians.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from mathlens.api import Recognizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--num", type=int, default=100)
    args = parser.parse_args()
    paths = sorted(args.images.glob("*.png"), key=lambda p: (len(p.stem), p.stem))[: args.num]
    recognizer = Recognizer()
    predictor = recognizer.predictor
    judge = predictor.looks_handwritten

    def encode_again(array):  # the probe's judgement, its encoding forgotten
        handwritten = judge(array)
        predictor._judged = None
        return handwritten

    times: dict[str, list[float]] = {"reuse the probe's encoding": [], "encode again": []}
    recognizer.recognize(paths[0])  # warm-up
    for path in paths:
        for arm, looks in zip(times, (judge, encode_again)):
            predictor.looks_handwritten = looks
            start = time.perf_counter()
            recognizer.recognize(path)
            times[arm].append((time.perf_counter() - start) * 1000)
    for arm, values in times.items():
        print(f"{arm}: median {statistics.median(values):.1f} ms over {len(values)} pictures")


if __name__ == "__main__":
    main()
