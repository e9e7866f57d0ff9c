"""A validation set rendered differently from the training data: im2latex-100k val formulas in MathJax.

    python benchmarks/make_mathjax_val.py --num 300 --out .cache/val/im2latex_mathjax300
    mathlens eval .cache/val/im2latex_mathjax300

MathJax's fonts, spacing and anti-aliasing were new to the session-1 model; since session 2,
MathJax renders are in the training mix too, so `make_katex_val.py` builds the held-out-renderer
set now. This one stays to follow the web-style renderer the model trains on. Formulas are taken in a fixed random order; those MathJax cannot
render are skipped. Each image gets its own scale (12pt at roughly 70-110 dpi).
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

from mathlens.data.render import RenderJob
from mathlens.data.render_web import render_web_batch

SCALES = (0.72, 0.82, 0.92, 1.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", type=Path, default=Path("../shared/datasets/im2latex100k/val"))
    parser.add_argument("--num", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path(".cache/val/im2latex_mathjax300"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    formulas = (args.split / "formulas.norm.txt").read_text(encoding="utf-8").split("\n")
    indices = [int(line.split()[1]) for line in (args.split / "matching.txt").read_text().splitlines()]
    random.Random(args.seed).shuffle(indices)
    if args.out.exists():
        shutil.rmtree(args.out)
    candidates = indices[: args.num * 4 // 3]  # some formulas do not render in MathJax
    done: dict[str, Path] = {}
    for group, scale in enumerate(SCALES):  # 12pt at about 70, 80, 90 and 100 dpi
        jobs = [RenderJob(str(i), formulas[i]) for i in candidates[group:: len(SCALES)]]
        done.update(render_web_batch(jobs, args.out / "images", scale=scale))
    labels = [f"images/{i}.png\t{formulas[i]}" for i in candidates if str(i) in done][: args.num]
    (args.out / "labels.tsv").write_text("\n".join(labels) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(labels)} images")


if __name__ == "__main__":
    main()
