"""`mathlens val-sets [NAME ...]`: build the validation sets made from the shared datasets."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from mathlens.errors import MathlensError


def add_datasets_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--datasets", type=Path, default=None,
                   help="the shared datasets folder (im2latex100k/, crohme/; default $MATHLENS_DATASETS)")
    p.add_argument("--val-dir", type=Path, default=Path(".cache/val"), help="where built sets are (default .cache/val)")


def datasets_dir(args: argparse.Namespace) -> Path:
    """--datasets, else $MATHLENS_DATASETS: never a guess relative to the current directory."""
    path = args.datasets or (Path(os.environ["MATHLENS_DATASETS"]) if os.environ.get("MATHLENS_DATASETS") else None)
    if path is None:
        raise MathlensError("say where the datasets are: --datasets DIR (e.g. ../shared/datasets) or $MATHLENS_DATASETS")
    return path


def add_parser(sub: Any) -> None:
    from mathlens.synth.valsets import VALSETS

    p = sub.add_parser("val-sets", help="build validation sets from the shared datasets (needs mathlens[train])",
                       description="Sets: " + "; ".join(f"{s.name}: {s.what}" for s in VALSETS.values()))
    p.add_argument("names", nargs="*", metavar="NAME", help="sets to build (default: all)")
    add_datasets_argument(p)
    p.add_argument("--force", action="store_true", help="build the named sets again even if they are there")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mathlens.synth.valsets import VALSETS, build_valsets

    for path in build_valsets(args.names or list(VALSETS), datasets_dir(args), args.val_dir, force=args.force):
        print(path)
    return 0
