"""`mathlens calibrate MODEL_DIR`: fit the confidence on validation sets, judge it on others."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mathlens.cli import edit_model_json
from mathlens.cli.valsets import add_datasets_argument, datasets_dir

# (set, first sample, end): the calibration is fitted on these ...
FIT_SETS = (("im2latex_val", 1000, 3000), ("crohme2013_inkml", 0, None))
# ... and judged on these, which BENCHMARKS.md reports accuracy on.
REPORT_SETS = (("im2latex_val", 0, 1000), ("crohme2014_inkml", 0, None), ("crohme2014_bitmaps", 0, None))


def add_parser(sub: Any) -> None:
    p = sub.add_parser("calibrate", help="fit the confidence (P(exactly right)) on validation sets (needs mathlens[train])")
    p.add_argument("model_dir", type=Path, help="an exported model folder (model.json)")
    p.add_argument("--out", type=Path, required=True, help="readings (resumable), calibration.json and calibration.md")
    p.add_argument("--write", action="store_true", help="also store the calibration in MODEL_DIR/model.json")
    add_datasets_argument(p)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=None, help="at most N samples of each set (a quick look, not a release)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:

    from tqdm import tqdm

    from mathlens.config import to_dict
    from mathlens.inference.calibration import MAX_TOKENS_PER_COLUMN, UNSURE_BELOW
    from mathlens.inference.predictor import Predictor
    from mathlens.metrics import calibration as cal
    from mathlens.metrics.evaluate import load_samples
    from mathlens.synth.valsets import ensure_set

    datasets = datasets_dir(args)
    predictor = Predictor(args.model_dir, num_threads=args.threads)
    readings = {}
    for name, start, end in FIT_SETS + REPORT_SETS:
        samples = load_samples(ensure_set(name, datasets, args.val_dir))[start:end][: args.limit]
        label = f"{name}[{start}:{start + len(samples)}]"
        with tqdm(total=len(samples), desc=label, unit="img", file=sys.stderr, disable=None) as bar:
            readings[label] = cal.collect(predictor, samples, args.out / f"readings_{label}.jsonl", progress=bar.update)
    fit_labels, report_labels = list(readings)[: len(FIT_SETS)], list(readings)[len(FIT_SETS):]
    train = [e for label in fit_labels for single in (False, True) for e in cal.examples(readings[label], single)]
    widest = max(e.signals.tokens_per_column for e in train if e.correct)
    calibration = cal.fit(train, UNSURE_BELOW, max(MAX_TOKENS_PER_COLUMN, round(1.5 * widest, 1)))
    rows = []
    for label in report_labels:
        for single in (False, True):
            items = cal.examples(readings[label], single)
            name = f"{label}, {'single view' if single else 'views'}"
            rows += [(name, "raw", cal.judged(items, None)), (name, "calibrated", cal.judged(items, calibration))]
    table = cal.report_table(rows)
    summary = (f"fitted on {', '.join(fit_labels)} ({len(train)} answers, views and single view); "
               f"right readings used at most {widest:.2f} tokens per column\n\n{table}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "calibration.json").write_text(json.dumps(to_dict(calibration), indent=2) + "\n")
    (args.out / "calibration.md").write_text(summary)
    if args.write:
        edit_model_json(args.model_dir, lambda meta: meta.update(calibration=to_dict(calibration)))
    print(summary, end="")
    return 0
