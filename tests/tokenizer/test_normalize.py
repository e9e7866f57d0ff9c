import pytest

from mathlens.errors import LatexSyntaxError
from mathlens.tokenizer.normalize import normalize

GOLDEN = [
    ("x^2_i", "x ^ { 2 } _ { i }"),
    (r"\frac12", r"\frac { 1 } { 2 }"),
    (r"\dfrac{a}{b}", r"\frac { a } { b }"),
    (r"x \le y \ne z", r"x \leq y \neq z"),
    (r"q \lt -1 \gt p", r"q < - 1 > p"),
    (r"a \ast b^\dag", r"a * b ^ { \dagger }"),
    (r"{ \bar { K } } _ { a }", r"\bar { K } _ { a }"),
    (r"{ \frac { 3 } { 4 } } t", r"\frac { 3 } { 4 } t"),
    (r"x^\frac12", r"x ^ { \frac { 1 } { 2 } }"),
    (r"{}^{14}C", r"{ } ^ { 1 4 } C"),
    (r"{\rm d}x", r"\mathrm { d } x"),
    (r"{\cal A}_i + \bf x y", r"\mathcal { A } _ { i } + \mathbf { x y }"),
    (r"\begin{array}{c}{\bf a}\\ \bf b\end{array}", r"\begin{array} { c } \mathbf { a } \\ \mathbf { b } \end{array}"),
    (r"f^{\prime\prime}(x) + g'_1", r"f ' ' ( x ) + g ' _ { 1 }"),
    (r"x_{\prime}", r"x _ { \prime }"),
    (r"\sqrt[3]{x}", r"\sqrt [ 3 ] { x }"),
    (r"\mathrm{e}^{-l\zeta}", r"\mathrm { e } ^ { - l \zeta }"),
    (r"\begin{array}{cc}a&b\end{array}", r"\begin{array} { c c } a & b \end{array}"),
    (r"\text{Tr}(A) + x_\textrm{eff2}", r"\mathrm { T r } ( A ) + x _ { \mathrm { e f f 2 } }"),
    (r"{h_0^0}(x) = \sum{b_{z}^0}", r"h _ { 0 } ^ { 0 } ( x ) = \sum { b _ { z } ^ { 0 } }"),  # \sum may take it
    (r"{\partial_\lambda}F + {p^{2n}}", r"\partial _ { \lambda } F + p ^ { 2 n }"),
    (r"\sqrt{{\sum_a b}} {\{P,X\}}=1", r"\sqrt { \sum _ { a } b } \{ P , X \} = 1"),
    # im2latex-100k ends every array row with \\; before \end{array} it draws no row
    (r"\left( \begin{array} { c } { 0 } \\ { \phi } \\ \end{array} \right)",
     r"\left ( \begin{array} { c } 0 \\ \phi \end{array} \right )"),
    (r"\begin{pmatrix}a\\b\\\end{pmatrix}", r"\begin{pmatrix} a \\ b \end{pmatrix}"),
]

# Braces that change how TeX sets the formula stay.
KEPT_BRACES = [
    (r"{x_1}^2", r"{ x _ { 1 } } ^ { 2 }"),  # a script on the whole group
    (r"{\phi'}^2", r"{ \phi ' } ^ { 2 }"),
    (r"{-1}x", r"{ - 1 } x"),  # a unary minus
    (r"x{a,}", r"x { a , }"),
    (r"{a \over b}c", r"{ a \over b } c"),
    (r"\hspace{1cm}x", r"\hspace { 1 c m } x"),  # an argument of a command we do not know
    (r"\begin{aligned}a\\b\\\end{aligned}", r"\begin{aligned} a \\ b \\ \end{aligned}"),  # may add a line
]


@pytest.mark.parametrize("latex,expected", GOLDEN)
def test_golden(latex, expected):
    assert " ".join(normalize(latex)) == expected


@pytest.mark.parametrize("latex,expected", KEPT_BRACES)
def test_braces_that_matter_stay(latex, expected):
    assert " ".join(normalize(latex)) == expected


def test_same_rendering_same_tokens():
    assert normalize(r"x^{2}") == normalize("x^2") == normalize("{x}^{ 2 }")
    assert normalize(r"{\cal L}'") == normalize(r"\mathcal{L}^\prime") == normalize(r"\mathcal L^{\prime}")
    assert normalize(r"{{a+b}}=c") == normalize(r"{a+b}=c") == normalize("a+b=c")


def test_text_with_punctuation_or_spaces_stays_text():
    assert normalize(r"\text{x-y}") == ["\\text", "{", "x", "-", "y", "}"]  # a hyphen, not a minus sign
    assert normalize(r"\text{a b}")[:3] == ["\\text", "{", "a"]


def test_normalize_is_idempotent():
    for latex, _ in GOLDEN + KEPT_BRACES:
        once = normalize(latex)
        assert normalize(" ".join(once)) == once


def test_unbalanced_braces_raise():
    with pytest.raises(LatexSyntaxError):
        normalize("{x")
    with pytest.raises(LatexSyntaxError):
        normalize("x}")
