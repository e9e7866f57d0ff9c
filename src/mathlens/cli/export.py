"""`mathlens export CKPT OUT_DIR [--int8]`: ONNX graphs for torch-free inference."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="export a checkpoint (.pt or Lightning .ckpt) to ONNX")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("out_dir", type=Path)
    p.add_argument("--int8", action="store_true", help="int8 weights for the matrix multiplies")
    p.add_argument("--save-pt", type=Path, default=None, help="also write the weights as a compact fp16 .pt")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mathlens import checkpoint
    from mathlens.export.onnx import export

    source = args.checkpoint
    if args.save_pt is not None:
        checkpoint.save(checkpoint.load(source), args.save_pt, half=True)
        source = args.save_pt
    result = export(source, args.out_dir, quantize=args.int8)
    print(f"{result.out_dir} (max |log-prob diff| vs torch {result.max_abs_diff:.2e})")
    return 0
