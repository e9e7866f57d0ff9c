"""Average the weights of runs branched from the same weights (a "model soup") into one mathlens
checkpoint that `mathlens export` takes.

    python benchmarks/average_weights.py A.ckpt B.ckpt --out .cache/soup/model.pt
    mathlens export .cache/soup/model.pt .cache/soup/int8 --int8
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mathlens import checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", type=Path, nargs="+", help="Lightning .ckpt or mathlens .pt files")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    checkpoint.save(checkpoint.average([checkpoint.load(p) for p in args.checkpoints]), args.out)
    print(args.out)


if __name__ == "__main__":
    main()
