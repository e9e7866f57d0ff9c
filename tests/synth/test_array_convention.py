import pytest

from mathlens.synth.array_convention import as_arrays
from mathlens.tokenizer.normalize import normalize


@pytest.mark.parametrize("latex,expected", [
    (r"A=\begin{pmatrix}a&b\\c&d\end{pmatrix}", r"A=\left(\begin{array}{cc}a&b\\c&d\end{array}\right)"),
    (r"\begin{bmatrix}x\\y&z\end{bmatrix}^T", r"\left[\begin{array}{cc}x\\y&z\end{array}\right]^T"),  # widest row
    (r"|x|=\begin{cases}x&x\ge0\\-x&\text{else}\end{cases}",
     r"|x|=\left\{\begin{array}{ll}x&x\ge0\\-x&\text{else}\end{array}\right."),
    (r"\begin{vmatrix}\begin{matrix}a&b\end{matrix}&c\end{vmatrix}",  # nested: each its own columns
     r"\left|\begin{array}{cc}\begin{array}{cc}a&b\end{array}&c\end{array}\right|"),
    (r"\begin{pmatrix}{a&b}\\c\end{pmatrix}", r"\left(\begin{array}{c}{a&b}\\c\end{array}\right)"),  # & in braces
])
def test_matrices_and_cases_become_arrays(latex, expected):
    assert as_arrays(latex) == expected


def test_formulas_without_them_or_unbalanced_are_left_alone():
    assert as_arrays(r"x^2+\frac{a}{b}") is None
    assert as_arrays(r"\begin{array}{c}a\end{array}") is None  # already an array
    assert as_arrays(r"\begin{pmatrix}a\end{bmatrix}") is None
    assert as_arrays(r"\begin{pmatrix}a") is None


def test_the_label_matches_im2latex_spelling_of_the_same_matrix():
    im2latex = r"J _ { 0 } = \left( \begin{array} { c c } { 0 } & { I } \\ { I } & { 0 } \\ \end{array} \right) ."
    assert normalize(as_arrays(r"J_0=\begin{pmatrix}0&I\\I&0\end{pmatrix}.")) == normalize(im2latex)
