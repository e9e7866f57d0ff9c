"""`mathlens prepare --config CONFIG` and `mathlens build-vocab`: the training data a config names."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mathlens.cli import add_config_arguments


def add_parser(sub: Any) -> None:
    p = sub.add_parser("prepare", help="build the training data a config lists (parallel, resumable; needs mathlens[train])")
    add_config_arguments(p, "processes (default 2)")
    p.add_argument("--only", nargs="+", default=[], metavar="NAME", help="build only these sources")
    p.set_defaults(run=run_prepare)

    v = sub.add_parser("build-vocab", help="build a token vocabulary from manifests (for a model trained from scratch)")
    v.add_argument("manifests", type=Path, nargs="+")
    v.add_argument("--out", type=Path, required=True, help="vocab.json to write (the config's vocab_path)")
    v.add_argument("--min-count", type=int, default=10)
    v.set_defaults(run=run_vocab)


def run_prepare(args: argparse.Namespace) -> int:
    from mathlens.cli.train import load_config
    from mathlens.synth.recipe import prepare

    cfg = load_config(args.config, args.set)
    for path in prepare(cfg.data, num_workers=args.workers, only=args.only):
        print(path)
    return 0


def run_vocab(args: argparse.Namespace) -> int:
    from mathlens.data.manifest import read_manifest
    from mathlens.tokenizer.vocab import Vocab

    vocab = Vocab.build((r.tokens for path in args.manifests for r in read_manifest(path)), min_count=args.min_count)
    vocab.save(args.out)
    print(f"{args.out}: {len(vocab)} tokens")
    return 0
