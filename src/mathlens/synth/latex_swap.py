"""Symbol swaps in LaTeX: printed formulas with the symbols papers use and the corpus seldom does.

Most of the im2latex-100k validation errors are one symbol read as a look-alike (stage 18:
`\\partial` as `\\theta` 282 times, `\\tilde` as `\\bar` 277, `\\chi` as `x` 167, `\\nu` as `v`
75), and the corpus (textbooks, notes) writes physics' symbols 9-22x less often per formula than
the papers do. A swap renames every occurrence of a symbol in a formula to another of its kind,
drawn uniformly, so rare symbols appear as often as common ones: `\\frac{d}{dx} f` may become
`\\frac{\\partial}{\\partial x} \\chi`. Only symbols in plain math change: the arguments of text,
font, colour and environment commands stay as written, so the formula still renders.
"""

from __future__ import annotations

import random
import string

from mathlens.errors import LatexSyntaxError
from mathlens.tokenizer.lexer import TEXT_COMMANDS, detokenize, tokenize

GREEK_LOWER = ("\\alpha", "\\beta", "\\gamma", "\\delta", "\\epsilon", "\\varepsilon", "\\zeta", "\\eta",
               "\\theta", "\\vartheta", "\\iota", "\\kappa", "\\lambda", "\\mu", "\\nu", "\\xi", "\\pi",
               "\\varpi", "\\rho", "\\varrho", "\\sigma", "\\varsigma", "\\tau", "\\upsilon", "\\phi",
               "\\varphi", "\\chi", "\\psi", "\\omega")
GREEK_UPPER = ("\\Gamma", "\\Delta", "\\Theta", "\\Lambda", "\\Xi", "\\Pi", "\\Sigma", "\\Upsilon", "\\Phi",
               "\\Psi", "\\Omega")
KINDS: dict[str, tuple[str, ...]] = {
    "lower": (*string.ascii_lowercase, *GREEK_LOWER, "\\partial", "\\ell", "\\hbar"),
    "upper": (*string.ascii_uppercase, *GREEK_UPPER, "\\nabla"),
    "accents": ("\\hat", "\\tilde", "\\bar", "\\vec", "\\dot", "\\ddot", "\\check", "\\breve"),
    "wide_accents": ("\\widehat", "\\widetilde", "\\overline"),
    "relations": ("=", "<", ">", "\\leq", "\\geq", "\\ll", "\\gg", "\\neq", "\\equiv", "\\sim", "\\simeq",
                  "\\approx", "\\cong", "\\propto"),
    "arrows": ("\\rightarrow", "\\leftarrow", "\\Rightarrow", "\\Leftarrow", "\\leftrightarrow",
               "\\Leftrightarrow", "\\longrightarrow", "\\mapsto"),
    "operators": ("+", "-", "\\pm", "\\mp", "\\times", "\\cdot", "*", "\\star", "\\circ", "\\bullet",
                  "\\otimes", "\\oplus", "\\wedge", "\\vee", "\\cap", "\\cup"),
}
# Delimiters change as pairs: `(` -> `\langle` turns every `)` into `\rangle`.
PAIRS: tuple[tuple[str, str], ...] = (("(", ")"), ("[", "]"), ("\\langle", "\\rangle"), ("\\{", "\\}"),
                                      ("\\lfloor", "\\rfloor"), ("\\lceil", "\\rceil"))
KIND_OF = {symbol: kind for kind, symbols in KINDS.items() for symbol in symbols}
PAIR_OF = {symbol: i for i, pair in enumerate(PAIRS) for symbol in pair}

# Commands whose next argument is a name, a word or a font's alphabet: kept as written.
ARGUMENT_COMMANDS = TEXT_COMMANDS | {
    "\\mathrm", "\\mathbf", "\\mathit", "\\mathsf", "\\mathtt", "\\mathcal", "\\mathbb", "\\mathfrak",
    "\\mathscr", "\\boldsymbol", "\\bm", "\\emph", "\\color", "\\textcolor", "\\colorbox", "\\label", "\\tag",
    "\\ref", "\\eqref", "\\hspace", "\\vspace", "\\rule", "\\phantom", "\\hphantom", "\\vphantom", "\\mathop",
    "\\href", "\\url", "\\raisebox", "\\makebox", "\\fbox", "\\pmb", "\\mathring",
}
TWO_ARGUMENTS = frozenset({"\\textcolor", "\\colorbox", "\\href"})
SPEC_ENVIRONMENTS = frozenset({"array", "tabular", "alignat", "alignat*", "alignedat", "subarray"})
# Old font switches: the rest of their group is in another alphabet.
SWITCHES = frozenset({"\\rm", "\\bf", "\\it", "\\sf", "\\tt", "\\cal", "\\mit", "\\em", "\\boldmath", "\\frak",
                      "\\Bbb", "\\sl", "\\sc", "\\bold"})
# Their arguments are dimensions or code without braces (`\kern 3pt`): such formulas are left alone.
UNSAFE = frozenset({"\\kern", "\\mkern", "\\hskip", "\\mskip", "\\vskip", "\\mspace", "\\def", "\\newcommand",
                    "\\renewcommand", "\\char", "\\verb", "\\mathchar", "\\unit", "\\si", "\\SI"})


def _closing(tokens: list[str], start: int, opener: str, closer: str) -> int:
    """Index of the token closing the group opened at `start` (the last token if it never closes)."""
    depth = 0
    for i in range(start, len(tokens)):
        depth += (tokens[i] == opener) - (tokens[i] == closer)
        if depth == 0:
            return i
    return len(tokens) - 1


def _arguments_end(tokens: list[str], i: int) -> int:
    """Index after the arguments of the command at `i` that a swap must keep: braced groups or single tokens."""
    tok, j = tokens[i], i + 1
    if tok.startswith("\\begin{"):
        if j < len(tokens) and tokens[j] == "[":  # `\begin{array}[t]`
            j = _closing(tokens, j, "[", "]") + 1
        count = int(tok[7:-1] in SPEC_ENVIRONMENTS)
    else:
        count = 2 if tok in TWO_ARGUMENTS else 1
    for _ in range(count):
        if j < len(tokens):
            j = _closing(tokens, j, "{", "}") + 1 if tokens[j] == "{" else j + 1  # `\mathrm d`
    return j


def free_positions(tokens: list[str]) -> list[bool]:
    """Per token, whether it is a symbol of plain math that a swap may change."""
    free = [True] * len(tokens)
    i, depth, switched_at = 0, 0, None  # switched_at: depth of the group a font switch holds
    while i < len(tokens):
        tok = tokens[i]
        if switched_at is not None:
            free[i] = False
            depth += (tok == "{") - (tok == "}")
            if depth < switched_at:
                switched_at = None
        elif tok in SWITCHES:
            free[i], switched_at = False, depth
        elif tok in ARGUMENT_COMMANDS or tok.startswith("\\begin{"):
            end = _arguments_end(tokens, i)
            free[i:end] = [False] * (end - i)
            i = end
            continue
        elif tok == "\\sqrt" and i + 1 < len(tokens) and tokens[i + 1] == "[":  # its index's brackets are syntax
            free[i + 1] = free[_closing(tokens, i + 1, "[", "]")] = False
        else:
            depth += (tok == "{") - (tok == "}")
        i += 1
    return free


def swap_symbols(latex: str, rng: random.Random, max_swaps: int = 2) -> str | None:
    """The formula with one to `max_swaps` of its symbols renamed to others of their kind; None if none can be.

    Every occurrence of a chosen symbol changes, to the same new one, as a writer would have used it.
    """
    try:
        tokens = tokenize(latex)
    except LatexSyntaxError:
        return None
    if any(tok in UNSAFE for tok in tokens):
        return None
    free = free_positions(tokens)
    units = sorted({("pair", str(PAIR_OF[t])) if t in PAIR_OF else ("kind", t)
                    for t, ok in zip(tokens, free) if ok and (t in KIND_OF or t in PAIR_OF)})
    if not units:
        return None
    renamed: dict[str, str] = {}
    for unit, value in rng.sample(units, rng.randint(1, min(max_swaps, len(units)))):
        if unit == "pair":
            old = int(value)
            new = rng.choice([i for i in range(len(PAIRS)) if i != old])
            renamed.update(zip(PAIRS[old], PAIRS[new]))
        else:
            renamed[value] = rng.choice([s for s in KINDS[KIND_OF[value]] if s != value])
    return detokenize([renamed.get(t, t) if ok else t for t, ok in zip(tokens, free)])
