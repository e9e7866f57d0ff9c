"""The print/handwriting probe on the validation sets: which pictures it sends to the views, and its cost.

    python benchmarks/bench_cue.py --model-dir src/mathlens/weights

Prints, per set, the share of pictures judged handwritten (read at every view) and the median
time of the probe itself (one encoder pass of the first view and a dot product).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from mathlens.errors import InvalidInputError
from mathlens.inference.predictor import Predictor
from mathlens.inference.preprocess import preprocess
from mathlens.metrics.evaluate import load_samples
from mathlens.synth.valsets import ensure_set

# (set, what it is): printed sets should come out near 0%, handwritten ones near 100%
SETS = (("im2latex_val", "printed"), ("im2latex_katex300", "printed"), ("im2latex_mathjax300", "printed"),
        ("im2latex_libertine300", "printed"), ("im2latex_up3", "printed"),
        ("crohme2014_bitmaps", "handwritten"), ("crohme2014_photo", "handwritten"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--datasets", type=Path, default=Path(os.environ.get("MATHLENS_DATASETS", "../shared/datasets")))
    ap.add_argument("--val-dir", type=Path, default=Path(".cache/val"))
    ap.add_argument("--limit", type=int, default=1000, help="pictures per set (default 1000)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    predictor = Predictor(args.model_dir, num_threads=args.threads)
    if predictor.style_probe is None:
        raise SystemExit(f"{predictor.model_dir}: the model has no handwriting_probe (mathlens fit-cue --write)")
    print("| set | kind | pictures | judged handwritten (read at every view) | probe, median ms |")
    print("|---|---|---|---|---|")
    for name, kind in SETS:
        samples = load_samples(ensure_set(name, args.datasets, args.val_dir))[: args.limit]
        judged, times = 0, []
        for sample in samples:
            try:
                first = preprocess(sample.image_path, predictor.preprocess_config)
            except InvalidInputError:  # a blank picture in the set: no view is read at all
                continue
            start = time.perf_counter()
            judged += predictor.looks_handwritten(first)
            times.append(time.perf_counter() - start)
        print(f"| {name} | {kind} | {len(times)} | {judged / len(times):.1%} | {statistics.median(times) * 1e3:.2f} |")


if __name__ == "__main__":
    main()
