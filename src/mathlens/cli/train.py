"""`mathlens train --config configs/train_small.yaml [--set key=value ...]`"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from mathlens.cli import add_config_arguments

logger = logging.getLogger(__name__)

# Debian's libjemalloc2 (scripts/install-deps.sh), by architecture.
JEMALLOC = tuple(Path(f"/usr/lib/{arch}-linux-gnu/libjemalloc.so.2") for arch in ("x86_64", "aarch64"))


def add_parser(sub: Any) -> None:
    p = sub.add_parser("train", help="train or resume a model (needs mathlens[train])")
    add_config_arguments(p, "processes that build missing training data first (default 2)")
    p.add_argument("--no-jemalloc", dest="jemalloc", action="store_false",
                   help="keep the C library's allocator (by default training restarts itself on jemalloc when installed)")
    p.set_defaults(run=run)


def load_config(path: Path, overrides: list[str]):  # -> TrainConfig
    from mathlens.cli import load_yaml_config
    from mathlens.config import TrainConfig

    return load_yaml_config(TrainConfig, path, overrides)


def on_jemalloc(args: argparse.Namespace) -> None:
    """Run this command again with jemalloc preloaded, if it is installed and not loaded yet.

    Every batch has new image sizes: under glibc's allocator the trainer grew to 14 GB within
    half an hour and slowed from ~33 to ~10 samples/s; on jemalloc it held 4.6 GB and its speed.
    """
    preload = os.environ.get("LD_PRELOAD", "")
    lib = next((path for path in JEMALLOC if path.exists()), None)
    if not args.jemalloc or lib is None or "jemalloc" in preload:
        return
    logger.info("restarting on %s", lib)
    flags = ["-q"] * args.quiet + ["-v"] * args.verbose  # the global options come before the subcommand
    command = [sys.executable, "-m", "mathlens.cli.main", *flags, "train", "--config", str(args.config),
               f"--workers={args.workers}", *(f"--set={item}" for item in args.set)]
    os.execve(sys.executable, command, {**os.environ, "LD_PRELOAD": f"{lib} {preload}".strip()})


def run(args: argparse.Namespace) -> int:
    from mathlens.synth.recipe import prepare
    from mathlens.training.run import run_training

    on_jemalloc(args)
    if "jemalloc" in os.environ.get("LD_PRELOAD", ""):
        logger.info("allocator: jemalloc")
    cfg = load_config(args.config, args.set)
    prepare(cfg.data, num_workers=args.workers)  # nothing to do once the data is there
    last = run_training(cfg)
    print(last)
    return 0
