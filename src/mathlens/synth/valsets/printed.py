"""Printed validation sets made from the im2latex-100k validation formulas: other renderers, other
fonts, higher resolution. Each checks one way a user's picture can differ from the training renders.

Formulas are taken in a fixed random order (a seed per set); those a renderer cannot draw are
skipped. Each set is a folder with `images/` and `labels.tsv`, as `mathlens eval` reads it.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image

from mathlens.synth.render import RenderJob, render_batch
from mathlens.synth.render_web import render_web_batch

NUM = 300
# MathJax at 12pt and about 70, 80, 90 and 100 dpi: the web-style renderer training also uses.
MATHJAX_SCALES = (0.72, 0.82, 0.92, 1.02)
# Linux Libertine / Biolinum (xelatex + mathastext: its letters and digits, Computer Modern
# symbols): a font setup the model met late in training.
LIBERTINE_SETUPS = (("libertine", 80), ("biolinum", 90), ("libertine", 100), ("libertine", 120))
UPSCALE_FACTOR, UPSCALE_NUM = 3, 200  # retina screenshots: preprocessing must shrink them back


def shuffled_formulas(split: Path, seed: int) -> tuple[list[int], list[str]]:
    """Formula indices of the split's images in a seeded random order, and the normalized formulas."""
    formulas = (split / "formulas.norm.txt").read_text(encoding="utf-8").split("\n")
    indices = [int(line.split()[1]) for line in (split / "matching.txt").read_text().splitlines()]
    random.Random(seed).shuffle(indices)
    return indices, formulas


def write_labels(out: Path, labels: list[str]) -> Path:
    """`labels.tsv` in the layout `mathlens eval` reads: `images/NAME.png<TAB>formula` per line."""
    (out / "labels.tsv").write_text("\n".join(labels) + "\n", encoding="utf-8")
    return out


def mathjax_set(split: Path, out: Path, num: int = NUM, seed: int = 0) -> Path:
    indices, formulas = shuffled_formulas(split, seed)
    candidates = indices[: num * 4 // 3]  # some formulas do not render in MathJax
    done: dict[str, Path] = {}
    for group, scale in enumerate(MATHJAX_SCALES):
        jobs = [RenderJob(str(i), formulas[i]) for i in candidates[group:: len(MATHJAX_SCALES)]]
        done.update(render_web_batch(jobs, out / "images", scale=scale))
    return write_labels(out, [f"images/{i}.png\t{formulas[i]}" for i in candidates if str(i) in done][:num])


def libertine_set(split: Path, out: Path, num: int = NUM, seed: int = 5) -> Path:
    indices, formulas = shuffled_formulas(split, seed)
    candidates = indices[: num * 5 // 4]
    done: dict[str, Path] = {}
    for group, (font, dpi) in enumerate(LIBERTINE_SETUPS):
        jobs = [RenderJob(str(i), formulas[i]) for i in candidates[group:: len(LIBERTINE_SETUPS)]]
        done.update(render_batch(jobs, out / "images", font=font, dpi=dpi))
    return write_labels(out, [f"images/{i}.png\t{formulas[i]}" for i in candidates if str(i) in done][:num])


def upscaled_set(split: Path, out: Path, num: int = UPSCALE_NUM, factor: int = UPSCALE_FACTOR) -> Path:
    """The first validation images upscaled, as a high-resolution screenshot is."""
    formulas = (split / "formulas.norm.txt").read_text(encoding="utf-8").split("\n")
    (out / "images").mkdir(parents=True)
    labels = []
    for line in (split / "matching.txt").read_text(encoding="utf-8").splitlines()[:num]:
        name, index = line.split()
        with Image.open(split / "images" / name) as image:
            size = (image.width * factor, image.height * factor)
            image.resize(size, Image.Resampling.LANCZOS).save(out / "images" / name)
        labels.append(f"images/{name}\t{formulas[int(index)]}")
    return write_labels(out, labels)
