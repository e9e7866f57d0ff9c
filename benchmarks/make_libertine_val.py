"""im2latex-100k val formulas typeset by TeX in Linux Libertine / Biolinum, at several resolutions.

    python benchmarks/make_libertine_val.py --num 300 --out .cache/val/im2latex_libertine300
    mathlens eval .cache/val/im2latex_libertine300

Libertine (xelatex + mathastext: its letters and digits, Computer Modern symbols) joined the
font setups in session 5, after the shipped stage-5 model had been trained, so for that model
this set is a font it has never seen. Formulas are taken in a fixed random order; those TeX
cannot typeset are skipped.
"""

from __future__ import annotations

from pathlib import Path

from rerender import parse_args, shuffled_formulas, write_labels

from mathlens.synth.render import RenderJob, render_batch

SETUPS = (("libertine", 80), ("biolinum", 90), ("libertine", 100), ("libertine", 120))


def main() -> None:
    args = parse_args(__doc__.split("\n")[0], ".cache/val/im2latex_libertine300", seed=5)
    indices, formulas = shuffled_formulas(args.split, args.seed)
    candidates = indices[: args.num * 5 // 4]
    done: dict[str, Path] = {}
    for group, (font, dpi) in enumerate(SETUPS):
        jobs = [RenderJob(str(i), formulas[i]) for i in candidates[group:: len(SETUPS)]]
        done.update(render_batch(jobs, args.out / "images", font=font, dpi=dpi))
    labels = [f"images/{i}.png\t{formulas[i]}" for i in candidates if str(i) in done][: args.num]
    write_labels(args.out, labels)
    print(f"{args.out}: {len(labels)} images")


if __name__ == "__main__":
    main()
