import json
import random
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from mathlens.synth.ink_layout import Item, LayoutRenderConfig, draw_items, glyph_bank, render_layout_corpus, typeset
from mathlens.inference.inkml import parse_inkml

pytestmark = pytest.mark.texlive


@pytest.fixture
def bank(fixtures):
    return glyph_bank([parse_inkml(fixtures / "inkml" / "b_x_plus_2_eq_3.crohme.inkml")])


def test_typesetting_names_every_symbol_where_tex_put_it():
    [items] = typeset([r"\frac { x ^ { 2 } + 1 } { \sqrt { y - 3 } } \neq \sin \alpha"])
    assert Counter(i.label for i in items) == Counter(
        ["x", "2", "+", "1", "\\sqrt", "y", "-", "3", "\\neq", "\\sin", "\\alpha", "-"])
    by = {i.label: i for i in items}
    bar = max((i for i in items if i.label == "-"), key=lambda i: i.x1 - i.x0)
    assert by["x"].y1 < bar.y0 < bar.y1 < by["y"].y0  # numerator over the bar over the denominator (y down)
    assert bar.x0 <= by["x"].x0 and bar.x1 >= by["1"].x1
    root = by["\\sqrt"]  # the radical sign and its overbar: one symbol covering the radicand
    assert root.x0 < by["y"].x0 and root.x1 >= by["3"].x1 and root.y0 < by["3"].y0
    assert bar.x1 < by["\\neq"].x0 < by["\\sin"].x0 < by["\\alpha"].x0


@pytest.mark.parametrize("source", [r"\mathbf { x }", r"\omega", r"\exp x", r"\frac { 1 } { \nosuchcommand }"])
def test_formulas_with_a_glyph_no_hand_wrote_are_left_out(source):
    assert typeset([source, "x + 1"])[0] is None


def test_glyphs_are_drawn_into_their_boxes(bank):
    items = [Item("x", 0, -10, 8, 0), Item("b", 10, -16, 18, 0), Item("=", 20, -7, 30, -3)]
    strokes = draw_items(items, bank, random.Random(0))
    assert strokes is not None
    points = np.concatenate(strokes)
    for item in items:
        inside = points[(points[:, 0] > item.x0 - 2) & (points[:, 0] < item.x1 + 2)]
        centre = (inside.min(axis=0) + inside.max(axis=0)) / 2
        assert centre == pytest.approx([(item.x0 + item.x1) / 2, (item.y0 + item.y1) / 2], abs=2.0)
    tall = points[(points[:, 0] > 9) & (points[:, 0] < 19)]
    assert np.ptp(tall[:, 1]) == pytest.approx(16, rel=0.2)  # `b` as tall as its box, give or take a hand
    assert draw_items([Item("y", 0, -10, 8, 0)], bank, random.Random(0)) is None  # no `y` in this bank


def test_corpus_formulas_come_out_in_the_inks_hands(fixtures, tmp_path, write_corpus, write_tar):
    ink = (fixtures / "inkml" / "b_x_plus_2_eq_3.crohme.inkml").read_bytes()
    archive = write_tar({"train/a.inkml": ink})
    (tmp_path / "captions.txt").write_text("a\tb x + 2 = 3\n")
    (tmp_path / "dictionary.txt").write_text("".join(f"{t}\t{i}\n" for i, t in enumerate("bxy23+=^{}")))
    corpus = write_corpus(["x^{2}+3=b", "2x=3", "y+2", r"\omega=3", "3b+x"])  # y: no glyph; \omega: not CROHME's
    cfg = LayoutRenderConfig(corpus, archive, tmp_path / "captions.txt", tmp_path / "dictionary.txt",
                             tmp_path / "out", shard_size=2)
    records = [json.loads(line) for line in render_layout_corpus(cfg).read_text().splitlines()]
    assert sorted(" ".join(r["tokens"]) for r in records) == ["2 x = 3", "3 b + x", "b x + 2 = 3", "x ^ { 2 } + 3 = b"]
    for record in records:
        with Image.open(tmp_path / "out" / record["image"]) as image:
            assert np.asarray(image).min() < 100  # ink on the page
    first = next((tmp_path / "out").glob("shard*/manifest.jsonl"))
    stamp = first.stat().st_mtime_ns
    assert len(render_layout_corpus(cfg).read_text().splitlines()) == 4  # resumed: nothing redrawn
    assert first.stat().st_mtime_ns == stamp
