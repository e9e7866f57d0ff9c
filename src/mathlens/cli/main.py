"""`mathlens` command: one module per subcommand, each with `add_parser` and `run`."""

from __future__ import annotations

import argparse
import logging
import sys

from mathlens.errors import MathlensError


def main(argv: list[str] | None = None) -> int:
    from mathlens import __version__
    from mathlens.cli import (average, batch, bench, calibrate, cue, detector, evaluate, export, hard, measure, page,
                              predict, prepare, pretrain, serve, train, valsets, vlm_data)

    parser = argparse.ArgumentParser(prog="mathlens", description="Pictures of mathematics to LaTeX.")
    parser.add_argument("--version", action="version", version=f"mathlens {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (stderr)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (predict, page, evaluate, serve, batch, prepare, train, pretrain, detector, average, export, measure,
                   calibrate, cue, hard, valsets, bench, vlm_data):
        module.add_parser(sub)
    args = parser.parse_args(argv)
    chatty = {"train", "train-detector", "prepare", "val-sets", "measure", "calibrate", "mine-errors"}
    level = logging.ERROR if args.quiet else (logging.DEBUG if args.verbose > 1 else
                                              logging.INFO if args.verbose or args.command in chatty
                                              else logging.WARNING)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.run(args) or 0)
    except MathlensError as err:
        print(f"mathlens: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
