"""`mathlens train --config configs/train_small.yaml [--set key=value ...]`"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("train", help="train or resume a model (needs mathlens[train])")
    p.add_argument("--config", type=Path, required=True, help="YAML file with TrainConfig fields")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field, dotted for nested ones (data.num_workers=0)")
    p.set_defaults(run=run)


def load_config(path: Path, overrides: list[str]):  # -> TrainConfig
    import yaml

    from mathlens.config import TrainConfig, from_dict

    raw = yaml.safe_load(path.read_text()) or {}
    for item in overrides:
        key, _, value = item.partition("=")
        node = raw
        *parents, leaf = key.split(".")
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = yaml.safe_load(value)
    return from_dict(TrainConfig, raw)


def run(args: argparse.Namespace) -> int:
    from mathlens.training.run import run_training

    last = run_training(load_config(args.config, args.set))
    print(last)
    return 0
