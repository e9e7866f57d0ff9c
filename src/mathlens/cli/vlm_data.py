"""`mathlens vlm-data SRC [SRC ...] --out DIR`: Uni-MuMER's four training tasks for a VLM, as
LLaMA-Factory datasets (docs/vlm.md, "Building the training data")."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    from mathlens.vlm.prompts import TASKS

    p = sub.add_parser("vlm-data", help="build Uni-MuMER-style training data for a vision-language model "
                                        "(LLaMA-Factory ShareGPT JSON, pictures and dataset_info.json)")
    p.add_argument("sources", nargs="+", type=Path, metavar="SRC",
                   help="labelled sets: the CROHME training folder (train_inkml.tar.gz + train_captions.txt), an InkML "
                        "archive or folder, a folder with matching.txt, caption.txt or labels.tsv, a manifest .jsonl")
    p.add_argument("--out", type=Path, required=True, help="the dataset folder (LLaMA-Factory's dataset_dir)")
    p.add_argument("--name", default="mathlens", help="dataset name prefix: <name>_<task> (default mathlens)")
    p.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS),
                   help="which tasks (default all; error_driven runs the model over every picture)")
    p.add_argument("--kind", choices=("handwritten", "printed"), default=None,
                   help="what every picture shows, said in the prompts (default: known from the source, else unsaid)")
    p.add_argument("--model-dir", type=Path, default=None,
                   help="the model whose errors to learn from (default: the shipped one)")
    # Greedy and once by default, as `mathlens mine-errors` reads: what the model knows unaided.
    p.add_argument("--beam", type=int, default=1, metavar="N", help="the model's beam size (default 1: greedy)")
    p.add_argument("--views", action="store_true", help="the model reads at several sizes (default: once)")
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mathlens.config import DecodeConfig
    from mathlens.errors import MathlensError
    from mathlens.vlm.data import VlmDataConfig, build_vlm_data
    from mathlens.vlm.labelled import read_sources

    if args.beam < 1:
        raise MathlensError(f"--beam {args.beam}: the beam size is at least 1")
    items = read_sources(args.sources, args.kind)
    cfg = VlmDataConfig(args.out, name=args.name, tasks=tuple(args.tasks), model_dir=args.model_dir,
                        decode=DecodeConfig(beam_size=args.beam, views=args.views), num_threads=args.threads)
    reading = "error_driven" in args.tasks  # the only task that runs the model
    with tqdm(total=len(items), desc="reading", unit="img", file=sys.stderr, disable=None if reading else True) as bar:
        report = build_vlm_data(items, cfg, bar.update)
    print(json.dumps({"out": str(args.out), "items": report.num_items, "misread": report.num_misread,
                      "unread": report.num_unread, "examples": report.examples, "seconds": report.seconds}, indent=2))
    return 0
