"""`mathlens export CKPT OUT_DIR [--int8 | --fp16] [--preprocess key=value ...]`: ONNX graphs for torch-free inference."""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="export a checkpoint (.pt or Lightning .ckpt) to ONNX")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("out_dir", type=Path)
    weights = p.add_mutually_exclusive_group()
    weights.add_argument("--int8", action="store_true", help="int8 weights for the matrix multiplies")
    weights.add_argument("--fp16", action="store_true", help="fp16 weights on disk, fp32 arithmetic (half the size)")
    p.add_argument("--save-pt", type=Path, default=None, help="also write the weights as a compact fp16 .pt")
    p.add_argument("--preprocess", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                   help="change inference preprocessing fields the model carries (target_dpi=165 min_dpi=160)")
    p.set_defaults(run=run)


def with_preprocess(ckpt: Any, overrides: list[str]) -> Any:
    """The checkpoint with preprocessing fields replaced: they are calibrated after training, not learned."""
    import yaml

    from mathlens.config import PreprocessConfig, from_dict, to_dict
    from mathlens.errors import ExportError

    raw = to_dict(ckpt.model_config.preprocess)
    for item in overrides:
        key, _, value = item.partition("=")
        if key not in raw:
            raise ExportError(f"--preprocess {item!r}: no such field; choose from {sorted(raw)}")
        raw[key] = yaml.safe_load(value)
    ckpt.model_config = replace(ckpt.model_config, preprocess=from_dict(PreprocessConfig, raw))
    return ckpt


def run(args: argparse.Namespace) -> int:
    from mathlens import checkpoint
    from mathlens.export.onnx import export

    source = args.checkpoint
    with tempfile.TemporaryDirectory() as tmp:
        if args.save_pt is not None or args.preprocess:
            source = args.save_pt or Path(tmp) / "model.pt"
            ckpt = with_preprocess(checkpoint.load(args.checkpoint), args.preprocess)
            checkpoint.save(ckpt, source, half=args.save_pt is not None)
        result = export(source, args.out_dir, quantize=args.int8, half_weights=args.fp16)
    print(f"{result.out_dir} (max |log-prob diff| vs torch {result.max_abs_diff:.2e})")
    return 0
