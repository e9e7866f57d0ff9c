"""`mathlens pretrain --config configs/pretrain.yaml`: the LaTeX encoder, from the corpus formulas alone."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("pretrain", help="pretrain a LaTeX encoder on formulas alone (needs mathlens[train])")
    p.add_argument("--config", type=Path, required=True, help="YAML file with PretrainConfig fields")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a field, dotted for model.*")
    p.set_defaults(run=run)


def load_config(path: Path, overrides: list[str]):  # -> PretrainConfig
    from mathlens.cli import load_yaml_config
    from mathlens.training.pretrain import PretrainConfig

    return load_yaml_config(PretrainConfig, path, overrides)


def run(args: argparse.Namespace) -> int:
    from mathlens.training.pretrain import pretrain

    print(f"encoder written to {pretrain(load_config(args.config, args.set))}")
    return 0
