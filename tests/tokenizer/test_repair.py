"""repair: model output that TeX and KaTeX accept, and well-formed output left as it is."""

import pytest

from mathlens.tokenizer.lexer import detokenize, tokenize
from mathlens.tokenizer.repair import repair


def fixed(latex: str) -> str:
    return detokenize(repair(tokenize(latex)))


def test_repair_balances_model_output():
    assert repair(["\\frac", "{", "a", "}", "{", "b"]) == ["\\frac", "{", "a", "}", "{", "b", "}"]
    assert repair(["a", "}", "b"]) == ["a", "b"]
    assert repair(["\\left", "(", "x"]) == ["\\left", "(", "x", "\\right", "."]
    assert repair(["\\begin{matrix}", "a"]) == ["\\begin{matrix}", "a", "\\end{matrix}"]


def test_repair_puts_bare_rows_in_an_environment():
    assert fixed(r"a&=b\\&=c") == r"\begin{aligned}a&=b\\&=c\end{aligned}"
    assert fixed(r"x+1\\y") == r"\begin{gathered}x+1\\y\end{gathered}"
    assert repair(tokenize(r"a+b\\")) == ["a", "+", "b"]  # a trailing break draws an empty row
    inside = tokenize(r"\left(\begin{array}{cc}a&b\\c&d\end{array}\right)")
    assert repair(inside) == inside


@pytest.mark.parametrize("broken, repaired", [
    (r"4^{z}_{1}^{2}", r"4^{z}_{1}{}^{2}"),  # a second superscript on one base
    (r"f^{x_{1}_{2}}", r"f^{x_{1}{}_{2}}"),  # inside an argument too
    (r"s=\frac{c+1}", r"s=\frac{c+1}{}"),  # an argument missing at the end
    (r"x^", r"x^{}"),
    (r"\sqrt[3]", r"\sqrt[3]{}"),
    (r"M\sp2-M\sb{1}", r"M^2-M_{1}"),  # plain TeX's script names, which KaTeX lacks
])
def test_repair_fixes_what_tex_or_katex_refuse(broken, repaired):
    assert fixed(broken) == repaired


@pytest.mark.parametrize("latex", [r"\sum\limits_{i}^{n}x_{i}^{2}", r"{x^{a}}^{b}", r"\frac{a}{b}^{2}", r"f'^{2}",
                                   r"\left(\begin{array}{cc}a&b\\c&d\end{array}\right)", r"\sqrt[n]{x}"])
def test_repair_leaves_well_formed_output_as_it_is(latex):
    assert fixed(latex) == latex
