"""`mathlens fit-cue MODEL_DIR --config CONFIG`: which pictures are read at several sizes (print/handwriting)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mathlens.cli import edit_model_json


def add_parser(sub: Any) -> None:
    p = sub.add_parser("fit-cue", help="fit the print/handwriting cue on a config's training renders "
                                       "(views for handwriting only; needs mathlens[train])")
    p.add_argument("model_dir", type=Path, help="an exported model folder (model.json)")
    p.add_argument("--config", type=Path, required=True, help="the training config whose prepared sources to sample")
    p.add_argument("--samples", type=int, default=2000, help="renders of each kind (default 2000)")
    p.add_argument("--recall", type=float, default=0.99,
                   help="share of handwritten renders that must be judged handwritten (default 0.99)")
    p.add_argument("--write", action="store_true", help="store the probe in MODEL_DIR/model.json")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mathlens.cli.train import load_config
    from mathlens.inference.predictor import Predictor
    from mathlens.training.cue import fit_cue

    data = load_config(args.config, []).data
    result = fit_cue(data, Predictor(args.model_dir), samples=args.samples, recall=args.recall)
    print(f"held out, {result.held_out} renders of each kind: printed judged printed {result.printed_right:.1%}, "
          f"handwritten judged handwritten {result.handwritten_right:.1%}")
    if args.write:
        probe = {"weights": list(result.probe.weights), "bias": result.probe.bias}
        edit_model_json(args.model_dir, lambda meta: meta.update(handwriting_probe=probe))
        print(f"written to {args.model_dir}/model.json")
    return 0
