"""`mathlens train-detector --config configs/detector.yaml`: render synthetic pages, train, export."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("train-detector", help="train the page formula detector (needs mathlens[train] and TeX Live)")
    p.add_argument("--config", type=Path, required=True, help="YAML file with DetectorTrainConfig fields")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a field")
    p.set_defaults(run=run)


def load_config(path: Path, overrides: list[str]):  # -> DetectorTrainConfig
    from mathlens.cli import load_yaml_config
    from mathlens.training.detect import DetectorTrainConfig

    return load_yaml_config(DetectorTrainConfig, path, overrides)


def run(args: argparse.Namespace) -> int:
    from mathlens.synth.pages import render_pages
    from mathlens.training.detect import train_detector

    cfg = load_config(args.config, args.set)
    render_pages(cfg.pages_dir, cfg.pages, corpus=cfg.corpus, docbank=cfg.docbank, seed=cfg.render_seed)
    onnx = train_detector(cfg)
    print(f"detector written to {onnx} (copy detector.onnx and detector.json to src/mathlens/weights to ship it)")
    return 0
