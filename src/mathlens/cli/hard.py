"""`mathlens mine-errors --config CONFIG --out DIR`: the training records the model reads wrong, as a manifest."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("mine-errors", help="read a sample of a config's training records with a model and keep "
                                           "the misread ones as a manifest (error-driven learning; needs mathlens[train])")
    p.add_argument("--config", type=Path, required=True, help="the training config whose prepared sources to sample")
    p.add_argument("--model-dir", type=Path, default=None, help="an exported model folder (default: the shipped model)")
    p.add_argument("--samples", type=int, default=6000, help="records to read, drawn by the sources' weights (default 6000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True,
                   help="readings.jsonl (resumable) and manifest.jsonl (the misread records) go here")
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mathlens.cli.train import load_config
    from mathlens.training.hard import misread, read_records, sample_training_records, write_hard_manifest

    data = load_config(args.config, []).data
    records = sample_training_records(data, args.samples, args.seed)
    with tqdm(total=len(records), desc="reading", unit="img", file=sys.stderr, disable=None) as bar:
        readings = read_records(records, args.model_dir, args.out / "readings.jsonl", args.threads, bar.update)
    wrong = misread(records, readings)
    path = write_hard_manifest(wrong, readings, args.out / "manifest.jsonl")
    read, missed = Counter(r.source for r in records), Counter(r.source for r in wrong)
    for source in sorted(read):
        print(f"{source}: {missed[source]} of {read[source]} misread ({missed[source] / read[source]:.1%})")
    print(f"{len(wrong)} of {len(records)} misread ({len(wrong) / max(len(records), 1):.1%}): {path}")
    return 0
