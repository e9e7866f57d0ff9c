"""Matrices and cases written as arrays, the way the papers in im2latex-100k write them.

The corpus (textbooks and notes) spells a matrix `\\begin{pmatrix} … \\end{pmatrix}`; arXiv
papers of im2latex-100k's era spell the same picture `\\left( \\begin{array} { c c } …
\\end{array} \\right)` (3.6% of its validation formulas hold an array, 0.1% of the corpus). The
two look alike, so a model only learns the array spelling from renders that use it. The rewrite
works on the LaTeX source, so text inside cells renders as written.
"""

from __future__ import annotations

import re

from mathlens.errors import LatexSyntaxError
from mathlens.tokenizer.lexer import tokenize

# environment -> (LaTeX before the array, after it, column alignment)
ARRAY_FORMS: dict[str, tuple[str, str, str]] = {
    "pmatrix": ("\\left(", "\\right)", "c"),
    "bmatrix": ("\\left[", "\\right]", "c"),
    "Bmatrix": ("\\left\\{", "\\right\\}", "c"),
    "vmatrix": ("\\left|", "\\right|", "c"),
    "Vmatrix": ("\\left\\|", "\\right\\|", "c"),
    "matrix": ("", "", "c"),
    "cases": ("\\left\\{", "\\right.", "l"),
}
_ENV = re.compile(r"\\(begin|end)\s*\{(\w+\*?)\}")


def _columns(body: str) -> int:
    """Cells in the widest row: top-level `&` per row, outside braces and nested environments."""
    depth, cells, widest = 0, 1, 1
    for tok in tokenize(body):
        if tok == "{" or tok.startswith("\\begin{"):
            depth += 1
        elif tok == "}" or tok.startswith("\\end{"):
            depth -= 1
        elif depth == 0 and tok == "&":
            cells += 1
        elif depth == 0 and tok == "\\\\":
            cells = 1
        widest = max(widest, cells)
    return widest


def as_arrays(latex: str) -> str | None:
    """The formula with every matrix and cases environment written as an array.

    None if it has none, or if its environments do not pair up or its cells do not tokenize.
    """
    opened: list[re.Match[str]] = []
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in the source
    for m in _ENV.finditer(latex):
        if m.group(1) == "begin":
            opened.append(m)
            continue
        if not opened or opened[-1].group(2) != m.group(2):
            return None
        begin = opened.pop()
        env = m.group(2)
        if env in ARRAY_FORMS:
            before, after, align = ARRAY_FORMS[env]
            try:
                spec = align * _columns(latex[begin.end(): m.start()])
            except LatexSyntaxError:
                return None
            edits += [(begin.start(), begin.end(), f"{before}\\begin{{array}}{{{spec}}}"),
                      (m.start(), m.end(), f"\\end{{array}}{after}")]
    if opened or not edits:
        return None
    for start, end, text in sorted(edits, reverse=True):
        latex = latex[:start] + text + latex[end:]
    return latex
