"""Page metrics on cases worked out by hand."""

from __future__ import annotations

import random

import pytest

from mathlens.metrics.pages import (DetectionTally, edit_distance, extract_formulas, formula_recall,
                                    markdown_distance, match_boxes)
from mathlens.pages.types import Box, Detection
from mathlens.tokenizer.normalize import normalize


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def test_edit_distance_agrees_with_the_textbook_recurrence():
    rng = random.Random(0)
    for _ in range(200):
        a = "".join(rng.choice("ab $x") for _ in range(rng.randint(0, 12)))
        b = "".join(rng.choice("ab $x") for _ in range(rng.randint(0, 12)))
        assert edit_distance(a, b) == _levenshtein(a, b), (a, b)
    assert edit_distance("kitten", "sitting") == 3


def test_markdown_distance_ignores_whitespace_runs():
    assert markdown_distance("a  b\n\nc", "a b c") == 0.0
    assert markdown_distance("abcd", "abcx") == pytest.approx(0.25)
    assert markdown_distance("", "") == 0.0 and markdown_distance("", "ab") == 1.0


def test_matches_are_one_to_one_at_the_iou():
    truth = [Box(0, 0, 10, 10), Box(20, 0, 30, 10)]
    pred = [Box(0, 0, 10, 10), Box(1, 0, 11, 10), Box(20, 0, 26, 10)]
    assert match_boxes(pred, truth, 0.5) == 2  # the second prediction duplicates the first
    assert match_boxes(pred, truth, 0.75) == 1  # 20-26 overlaps 20-30 by 0.6


def test_tally_scores_kinds_apart_and_together():
    tally = DetectionTally()
    truth = [Detection(Box(0, 0, 10, 10), "inline", 1), Detection(Box(0, 20, 50, 40), "display", 1)]
    pred = [Detection(Box(0, 0, 10, 10), "display", 0.9), Detection(Box(0, 20, 50, 40), "display", 0.9)]
    tally.add(pred, truth)
    scores = tally.scores()
    assert scores["all"]["0.5"]["f1"] == 1.0  # both found, one with the wrong kind
    assert scores["inline"]["0.5"]["recall"] == 0.0
    assert scores["display"]["0.5"]["precision"] == 0.5 and scores["display"]["0.5"]["recall"] == 1.0


def test_formulas_are_found_in_markdown_and_compared_normalized():
    markdown = "Let $x^2$ be, then\n\n$$a+b \\tag{3}$$\n\nand $y$."
    assert extract_formulas(markdown) == ["x^2", "a+b", "y"]
    assert formula_recall(markdown, ["x^{2}", "a + b", "z"], normalize) == pytest.approx(2 / 3)
