"""Fitting detected boxes to the page's ink: the edges the network regresses are refined on pixels."""

from __future__ import annotations

import numpy as np

from mathlens.pages.detect import drop_displays_over_inline, fit_to_glyphs, glyph_clusters, snap_to_ink
from mathlens.pages.types import Box, Detection


def _line(*runs: tuple[int, int]) -> np.ndarray:
    ink = np.zeros((20, 120), dtype=bool)
    for start, end in runs:
        ink[5:15, start:end] = True
    return ink


def test_clusters_join_across_gaps_narrower_than_the_limit():
    inked = _line((10, 20), (21, 30), (40, 50)).any(axis=0)
    assert glyph_clusters(inked, gap=2) == [(10, 30), (40, 50)]
    assert glyph_clusters(inked, gap=12) == [(10, 50)]
    assert glyph_clusters(np.zeros(10, dtype=bool), gap=2) == []


def test_an_edge_cutting_a_word_leaves_it_and_one_cutting_the_formula_takes_it_in():
    ink = _line((10, 30), (40, 70), (80, 100))  # word, formula, word
    # The left edge cuts the first word near its end (mostly outside: dropped); the right edge
    # cuts the last word near its end (mostly inside: taken in), as the network's misses go.
    fitted = fit_to_glyphs(Box(27, 5, 96, 15), ink, gap=3)
    assert (fitted.x0, fitted.x1) == (30, 100)
    assert snap_to_ink(fitted, ink) == Box(40, 5, 100, 15)


def test_a_box_between_clusters_is_left_alone():
    ink = _line((10, 30), (40, 70))
    assert fit_to_glyphs(Box(35, 5, 75, 15), ink, gap=3) == Box(35, 5, 75, 15)


def test_a_display_box_over_an_inline_one_is_dropped():
    inline = Detection(Box(10, 10, 60, 30), "inline", 0.9)
    over = Detection(Box(40, 8, 120, 32), "display", 0.8)
    apart = Detection(Box(10, 60, 120, 100), "display", 0.8)
    assert drop_displays_over_inline([inline, over, apart], share=0.3) == [inline, apart]
