"""Synthetic pages: TeX typesets them and its boxes land on the formulas' ink."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from PIL import Image

from mathlens.synth.pages import render_pages

pytestmark = [pytest.mark.texlive, pytest.mark.slow]

INLINE = [r"x^{2}", r"\alpha+\beta", r"f(x)", r"a_{n}", r"\sqrt{y}", r"e^{i\pi}"]
DISPLAY = [r"\sum_{i=1}^{n} i = \frac{n(n+1)}{2}", r"\int_{0}^{1} f(x)\,dx = F(1) - F(0)",
           r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}"]


@pytest.fixture(scope="module")
def pages(tmp_path_factory, datasets):
    folder = tmp_path_factory.mktemp("pages")
    rows = ["formula\tsource_repo\tsource_path\tkind\trender_env\tn_chars\tn_tokens"]
    rows += [f"{f}\tr\tp\tinline\tinline\t1\t1" for f in INLINE] + [f"{f}\tr\tp\tdisplay\tdisplay\t1\t1" for f in DISPLAY]
    corpus = folder / "corpus.tsv.gz"
    corpus.write_bytes(gzip.compress("\n".join(rows).encode()))
    out = folder / "out"
    manifest = render_pages(out, 6, corpus=corpus, docbank=datasets / "docbank_samples", seed=3, per_document=6)
    return out, [json.loads(line) for line in manifest.read_text().splitlines()]


def test_pages_are_written_with_their_truth(pages):
    out, records = pages
    assert len(records) >= 3  # a page that ran over is dropped; most fit
    for record in records:
        image = Image.open(out / record["image"])
        assert image.size == (record["width"], record["height"])
        latexes = [b["latex"] for b in record["boxes"] if "latex" in b]
        assert latexes == record["formulas"]
        for latex in latexes:
            assert latex in record["markdown"]


def test_boxes_hold_the_formulas_ink_and_nothing_beyond(pages):
    out, records = pages
    checked = 0
    for record in records:
        ink = 255 - np.asarray(Image.open(out / record["image"]).convert("L")).astype(int)
        for box in record["boxes"]:
            if box["kind"] not in ("inline", "display"):
                continue
            x0, y0, x1, y1 = (round(v) for v in box["bbox"])
            assert 0 <= x0 < x1 <= record["width"] and 0 <= y0 < y1 <= record["height"]
            inside = ink[y0:y1, x0:x1]
            assert inside.max() > 128, box  # the formula is drawn there
            ring = np.concatenate([ink[max(0, y0 - 3):y0 - 1, x0:x1].ravel(), ink[y1 + 1:y1 + 3, x0:x1].ravel()])
            assert ring.size == 0 or ring.mean() < 60, box  # and the box is tight above and below
            checked += 1
    assert checked > 10


def test_display_formulas_with_numbers_carry_their_tag(pages):
    _, records = pages
    markdown = "\n\n".join(r["markdown"] for r in records)
    assert "\\tag{" in markdown
    assert all(p.startswith("$$") == p.endswith("$$") for p in markdown.split("\n\n"))
