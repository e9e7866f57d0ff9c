"""im2latex-100k val formulas re-rendered in MathJax, the web-style renderer the model trains on.

    python benchmarks/make_mathjax_val.py --num 300 --out .cache/val/im2latex_mathjax300
    mathlens eval .cache/val/im2latex_mathjax300

MathJax's fonts, spacing and anti-aliasing were new to the session-1 model; since session 2
MathJax renders are in the training mix, so the set rendered differently from the training data
is now `make_katex_val.py`'s. Formulas are taken in a fixed random order; those MathJax cannot
render are skipped. Each image gets its own scale (12pt at roughly 70-110 dpi).
"""

from __future__ import annotations

from pathlib import Path

from rerender import parse_args, shuffled_formulas, write_labels

from mathlens.synth.render import RenderJob
from mathlens.synth.render_web import render_web_batch

SCALES = (0.72, 0.82, 0.92, 1.02)


def main() -> None:
    args = parse_args(__doc__.split("\n")[0], ".cache/val/im2latex_mathjax300", seed=0)
    indices, formulas = shuffled_formulas(args.split, args.seed)
    candidates = indices[: args.num * 4 // 3]  # some formulas do not render in MathJax
    done: dict[str, Path] = {}
    for group, scale in enumerate(SCALES):  # 12pt at about 70, 80, 90 and 100 dpi
        jobs = [RenderJob(str(i), formulas[i]) for i in candidates[group:: len(SCALES)]]
        done.update(render_web_batch(jobs, args.out / "images", scale=scale))
    labels = [f"images/{i}.png\t{formulas[i]}" for i in candidates if str(i) in done][: args.num]
    write_labels(args.out, labels)
    print(f"{args.out}: {len(labels)} images")


if __name__ == "__main__":
    main()
