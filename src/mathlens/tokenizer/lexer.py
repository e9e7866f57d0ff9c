"""LaTeX string -> tokens, and tokens -> compact LaTeX.

Tokens follow the im2markup convention that im2latex-100k is scored in: one token per command
(`\\frac`), per character (`x`, `2`, `(`), `\\begin{env}` / `\\end{env}` as single tokens.
Inside text-mode arguments (`\\text{...}`) spaces matter, so they become the token `\\ `.
"""

from __future__ import annotations

import re

from mathlens.errors import LatexSyntaxError

TEXT_COMMANDS = frozenset(
    {"\\text", "\\textrm", "\\textbf", "\\textit", "\\textsf", "\\texttt", "\\mbox", "\\textnormal",
     "\\hbox", "\\operatorname", "\\operatorname*"}
)
SPACE_TOKEN = "\\ "

# im2markup (im2latex-100k's formulas.norm.txt) puts a space between all tokens, also between
# the letters of a text argument, where our lexer would read each as a real space.
_IM2MARKUP_TEXT_RE = re.compile(r"(\\(?:textrm|textit|textbf|textsf|texttt|text|mbox|hbox) \{)([^{}\\]*)(\})")
_ENV_RE = re.compile(r"\\(begin|end)\s*\{([a-zA-Z*]+)\}")
_COMMAND_RE = re.compile(r"\\([a-zA-Z]+\*?|.)", re.DOTALL)


def tokenize(latex: str) -> list[str]:
    """Split a LaTeX math string into tokens; raises LatexSyntaxError on a trailing backslash."""
    tokens: list[str] = []
    i, n = 0, len(latex)
    text_depth: int | None = None  # brace depth at which a text-mode argument closes
    depth = 0
    pending_text = False
    while i < n:
        ch = latex[i]
        if ch == "%":  # comment to end of line
            j = latex.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if ch.isspace():
            j = i
            while j < n and latex[j].isspace():
                j += 1
            if text_depth is not None:
                tokens.append(SPACE_TOKEN)
            i = j
            continue
        if ch == "\\":
            env = _ENV_RE.match(latex, i)
            if env:
                tokens.append(f"\\{env.group(1)}{{{env.group(2)}}}")
                i = env.end()
                continue
            cmd = _COMMAND_RE.match(latex, i)
            if cmd is None:
                raise LatexSyntaxError("trailing backslash", len(tokens))
            name = cmd.group(0)
            if name[1:].isspace():
                name = SPACE_TOKEN
            tokens.append(name)
            i = cmd.end()
            if name in TEXT_COMMANDS and text_depth is None:
                pending_text = True
            continue
        if ch == "{":
            depth += 1
            if pending_text:
                text_depth = depth
                pending_text = False
        elif ch == "}":
            if text_depth == depth:
                text_depth = None
            depth -= 1
        elif pending_text:
            pending_text = False  # `\text x`: a one-character argument
        tokens.append(ch)
        i += 1
    return tokens


def from_im2markup(formula: str) -> str:
    """An im2markup-tokenized formula as LaTeX: `\\textrm { a n d }` -> `\\textrm {and}`."""
    return _IM2MARKUP_TEXT_RE.sub(lambda m: m.group(1) + m.group(2).replace(" ", "") + m.group(3), formula)


def _needs_space(prev: str, nxt: str) -> bool:
    """A command word followed by a letter would fuse (`\\alpha x` -> `\\alphax`)."""
    if not (prev.startswith("\\") and len(prev) > 1 and prev[1].isalpha()):
        return False
    if prev.startswith(("\\begin{", "\\end{")):
        return False
    return nxt[0].isalpha() or nxt == "*"


def detokenize(tokens: list[str]) -> str:
    """Join tokens into compact LaTeX a person would paste: `\\frac{a}{b}`, no extra spaces."""
    out: list[str] = []
    prev = ""
    for tok in tokens:
        if prev and _needs_space(prev, tok):
            out.append(" ")
        out.append(tok)
        prev = tok
    return "".join(out)
