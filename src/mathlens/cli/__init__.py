"""The `mathlens` command line: one module per subcommand, `main` ties them together."""

from __future__ import annotations

import argparse

from mathlens.config import DEFAULT_BEAM


def add_beam_argument(p: argparse.ArgumentParser) -> None:
    """`--beam N`, the same for every command that decodes."""
    p.add_argument("--beam", type=int, default=DEFAULT_BEAM, metavar="N",
                   help=f"beam size (1 = greedy search; default {DEFAULT_BEAM})")
