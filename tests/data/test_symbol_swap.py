import random

import numpy as np
import pytest

from mathlens.data.inkml import parse_inkml
from mathlens.data.symbol_swap import DIGITS, LETTERS, SymbolBank, swap_symbols

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
