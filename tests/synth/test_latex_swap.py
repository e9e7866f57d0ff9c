import random

import pytest

from mathlens.synth.latex_swap import KIND_OF, PAIR_OF, PAIRS, free_positions, swap_symbols
from mathlens.tokenizer.lexer import tokenize
from mathlens.tokenizer.normalize import normalize

FORMULAS = [
    r"\frac{d}{dx} f(x) = \lim_{h\to 0}\frac{f(x+h)-f(x)}{h}",
    r"\tilde{u}_0 = -2, \qquad u = -\phi^2",
    r"\langle a | H | b \rangle \approx E [a]",
    r"\nabla\times\vec{B} = \mu_0 J",
]


def _renaming(before: str, after: str) -> dict[str, str]:
    """Old token -> new token, asserting the two formulas differ only by a consistent renaming."""
    old, new = tokenize(before), tokenize(after)
    assert len(old) == len(new)
    renamed: dict[str, str] = {}
    for a, b in zip(old, new):
        if a != b:
            assert renamed.setdefault(a, b) == b, f"{a} became both {renamed[a]} and {b}"
    return renamed


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("latex", FORMULAS)
def test_every_occurrence_becomes_the_same_symbol_of_its_kind(latex, seed):
    swapped = swap_symbols(latex, random.Random(seed))
    renamed = _renaming(latex, swapped)
    units = {PAIR_OF.get(old, old) for old in renamed}  # a delimiter pair counts once
    assert 1 <= len(units) <= 2
    for old, new in renamed.items():
        if old in PAIR_OF:  # `(` -> `\langle` only with `)` -> `\rangle`
            assert PAIRS[PAIR_OF[old]].index(old) == PAIRS[PAIR_OF[new]].index(new)
        else:
            assert KIND_OF[old] == KIND_OF[new]
    normalize(swapped)  # the label is made from it


@pytest.mark.parametrize("latex,kept", [
    (r"\text{for all } x > 0", "for all"),
    (r"\mathrm{d}x + \mathbf{v}", r"\mathrm{d}"),
    (r"{\rm max}(a, b)", r"{\rm max}"),
    (r"\begin{array}{cl} a & b \end{array}", r"\begin{array}{cl}"),
    (r"\sqrt[3]{a+b}", r"\sqrt[3]{"),
    (r"\textcolor{red}{x} + y", r"\textcolor{red}{x}"),
])
def test_names_words_and_syntax_are_kept(latex, kept):
    for seed in range(20):
        assert kept in swap_symbols(latex, random.Random(seed)).replace("\\ ", " ")


def test_a_font_switch_holds_to_the_end_of_its_group():
    free = free_positions(tokenize(r"{\cal A}B"))
    assert free == [True, False, False, False, True]


@pytest.mark.parametrize("latex", [r"123", r"\kern 3pt x", r"\text{only words}", "\\"])
def test_formulas_without_a_free_symbol_or_unsafe_are_left_alone(latex):
    assert swap_symbols(latex, random.Random(0)) is None


def test_rare_symbols_are_drawn_as_often_as_common_ones():
    rng = random.Random(0)
    drawn = [swap_symbols("x", rng) for _ in range(3000)]
    assert 30 <= drawn.count(r"\partial") <= 100 and 30 <= drawn.count("y") <= 100  # ~1/57 each
