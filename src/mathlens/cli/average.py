"""`mathlens average A.ckpt B.ckpt ... --out soup.pt`: one model from runs branched from the same weights."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("average", help="average the weights of runs branched from the same weights (needs mathlens[train])")
    p.add_argument("checkpoints", type=Path, nargs="+", help="Lightning .ckpt or mathlens .pt files")
    p.add_argument("--out", type=Path, required=True, help="mathlens .pt to write (`mathlens export` takes it)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mathlens import checkpoint

    checkpoint.save(checkpoint.average([checkpoint.load(p) for p in args.checkpoints]), args.out)
    print(args.out)
    return 0
