"""`mathlens measure MODEL`: the release measurement over every validation set (`--quick`: a candidate's A/B)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mathlens.cli import add_decode_arguments
from mathlens.cli.valsets import add_datasets_argument, datasets_dir


def add_parser(sub: Any) -> None:
    p = sub.add_parser("measure", help="score a model or checkpoint on every validation set, one summary table")
    p.add_argument("model", type=Path, help="an exported model folder (model.json), or a .ckpt / .pt (exported to int8 first)")
    p.add_argument("--out", type=Path, required=True, help="where the exports, *_results.json, *_pred.jsonl and summary.md go")
    p.add_argument("--quick", action="store_true",
                   help="the A/B of a training candidate: greedy, single view (--beam and --single-view unused), "
                        "CROHME 2014 ink + bitmaps, first 1,000 val")
    p.add_argument("--sets", nargs="+", default=None, metavar="NAME", help="only these sets (NAME or NAME:LIMIT)")
    add_datasets_argument(p)
    add_decode_arguments(p)
    p.add_argument("--views-below", type=float, default=1.0, metavar="P",
                   help="read the other views only when the first reading's confidence is below P (default 1: always)")
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mathlens.config import DecodeConfig
    from mathlens.metrics.measure import QUICK_DECODE, QUICK_SETS, RELEASE_SETS, measure

    datasets = datasets_dir(args)
    model_dir = args.model if args.model.is_dir() else export_int8(args.model, args.out)
    decode = QUICK_DECODE if args.quick else DecodeConfig(beam_size=args.beam, views=args.views,
                                                          views_below=args.views_below)
    sets = parse_sets(args.sets) if args.sets else (QUICK_SETS if args.quick else RELEASE_SETS)

    def progress(label: str, total: int):
        bar = tqdm(total=total, desc=label, unit="img", file=sys.stderr, disable=None)
        return bar.update

    print(measure(model_dir, sets, datasets, args.val_dir, args.out, decode, args.threads, progress).read_text(), end="")
    return 0


def parse_sets(items: list[str]) -> tuple[tuple[str, int | None], ...]:
    return tuple((name, int(limit) if limit else None) for name, _, limit in (item.partition(":") for item in items))


def export_int8(checkpoint_path: Path, out: Path) -> Path:
    """A checkpoint as it would ship: fp16 model.pt, then int8 ONNX graphs from it."""
    from mathlens import checkpoint
    from mathlens.export.onnx import export

    pt = out / "model.pt"
    out.mkdir(parents=True, exist_ok=True)
    checkpoint.save(checkpoint.load(checkpoint_path), pt, half=True)
    return export(pt, out / "int8", quantize=True).out_dir
