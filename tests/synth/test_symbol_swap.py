import random

import numpy as np
import pytest

from mathlens.inference.inkml import Symbol, parse_inkml
from mathlens.synth.symbol_swap import DIGITS, LETTERS, SymbolBank, swap_symbols

CAPTION = "b x + 2 = 3".split()


@pytest.fixture
def ink(fixtures):
    return parse_inkml(fixtures / "inkml" / "b_x_plus_2_eq_3.crohme.inkml")


@pytest.fixture
def bank(ink):
    bank = SymbolBank()
    for _ in range(5):  # five instances make a label eligible as a swap target
        bank.add(ink)
    return bank


def test_the_bank_keeps_letters_and_digits_scale_free(ink, bank):
    assert sorted(bank.glyphs) == ["2", "3", "b", "x"]
    assert bank.labels(LETTERS) == ["b", "x"] and bank.labels(DIGITS) == ["2", "3"]
    assert bank.relative_height("b") == pytest.approx(2 * bank.relative_height("x"))  # 80 against 40 units
    bigger = SymbolBank()
    bigger.add(type(ink)([s * 10 for s in ink.strokes], ink.label, ink.symbols))
    assert bigger.relative_height("b") == pytest.approx(bank.relative_height("b"))


@pytest.mark.parametrize("seed", range(6))
def test_a_swap_changes_ink_and_caption_together(ink, bank, seed):
    strokes, caption = swap_symbols(ink, CAPTION, bank, random.Random(seed))
    renamed = {old: new for old, new in zip(CAPTION, caption) if old != new}
    assert 1 <= len(renamed) <= 2
    for old, new in renamed.items():
        assert (old in DIGITS) == (new in DIGITS) and (old in LETTERS) == (new in LETTERS)
    assert caption[2:5:2] == ["+", "="]
    # The symbols left alone keep their strokes; a swapped one is redrawn in its old column.
    kept = [ink.strokes[i] for s in ink.symbols if s.label not in renamed for i in s.strokes]
    assert all(any(np.array_equal(k, s) for s in strokes) for k in kept)
    new_strokes = [s for s in strokes if not any(np.array_equal(s, k) for k in kept)]
    columns = [(min(ink.strokes[i][:, 0].min() for i in s.strokes), max(ink.strokes[i][:, 0].max() for i in s.strokes))
               for s in ink.symbols if s.label in renamed]
    assert new_strokes
    for stroke in new_strokes:  # a little wider is allowed: half the height, split over both sides
        assert any(lo - 20 <= stroke[:, 0].mean() <= hi + 20 for lo, hi in columns)


def test_a_label_the_caption_counts_otherwise_is_not_swapped(ink, bank):
    caption = "b x + 2 = 3 x".split()  # two x in the caption, one in the ink: ambiguous, so never x
    for seed in range(10):
        _, swapped = swap_symbols(ink, caption, bank, random.Random(seed))
        assert swapped.count("x") >= 2
    nothing = SymbolBank()
    assert swap_symbols(ink, CAPTION, nothing, random.Random(0)) is None


def _relabelled(ink, names):
    symbols = tuple(Symbol(names.get(s.label, s.label), s.strokes) for s in ink.symbols)
    return type(ink)(ink.strokes, ink.label, symbols)


def test_operators_are_banked_only_where_the_caption_counts_them_as_the_ink_does(ink):
    bank = SymbolBank()
    bank.add(ink)  # no caption: letters and digits only
    assert sorted(bank.glyphs) == ["2", "3", "b", "x"]
    bank.add(ink, CAPTION)
    assert bank.glyphs["+"] and bank.glyphs["="]
    fraction = SymbolBank()  # the ink's `+` annotated `-` but absent from the caption, as a fraction bar is
    fraction.add(_relabelled(ink, {"+": "-"}), "\\frac { b x } { 2 } = 3".split())
    assert "-" not in fraction.glyphs and fraction.glyphs["="]


@pytest.mark.parametrize("seed", range(4))
def test_operators_and_relations_swap_in_place_and_in_the_caption_convention(ink, seed):
    bank = SymbolBank()
    for _ in range(5):  # a second hand whose `x` is a \times and whose `3` a `>` (`\gt` in CROHME's segmentation)
        bank.add(ink, CAPTION)
        bank.add(_relabelled(ink, {"x": "\\times", "3": "\\gt"}), "b \\times + 2 = >".split())
    strokes, caption = swap_symbols(ink, CAPTION, bank, random.Random(seed), kinds=("operators", "relations"))
    assert caption[:2] == ["b", "x"] and caption[3::2] == ["2", "3"]
    assert (caption[2], caption[4]) in (("\\times", "="), ("+", ">"), ("\\times", ">"))
    kept = [ink.strokes[i] for s in ink.symbols if s.label in ("b", "x", "2", "3") for i in s.strokes]
    assert all(any(np.array_equal(k, s) for s in strokes) for k in kept)
    # Centred where the old operator was: `+` spans x 200-230, y 105-135; `=` x 310-340, y 110-125.
    for changed, (lo, hi), centre in ((caption[2] != "+", (195, 235), (215, 120)),
                                       (caption[4] != "=", (305, 345), (325, 117.5))):
        drawn = [s for s in strokes if lo <= s[:, 0].mean() <= hi]
        is_new = [not any(np.array_equal(d, k) for k in ink.strokes) for d in drawn]
        assert drawn and all(is_new) == changed and any(is_new) == changed
        if changed:
            points = np.concatenate(drawn)
            assert (points.min(axis=0) + points.max(axis=0)) / 2 == pytest.approx(centre, abs=1)
