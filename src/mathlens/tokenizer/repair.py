"""Make the model's output compile, in TeX and in KaTeX alike.

A decoder writes one token at a time and can stop anywhere: a group left open, a `\\frac` with
one argument, a second superscript on one base, rows without their environment. Each pass below
fixes one such slip on the token list, the smallest change that makes the formula typeset, and
leaves well-formed output exactly as it was.
"""

from __future__ import annotations

from mathlens.tokenizer.normalize import ARITY

# Plain TeX's names for the script operators: TeX knows them, KaTeX does not.
PLAIN_SCRIPTS = {"\\sp": "^", "\\sb": "_"}
SCRIPTS = ("^", "_")
# Tokens that end an argument list: what follows them is not an argument.
_STOPS = frozenset({"}", "\\right", "&", "\\\\"})


def repair(tokens: list[str]) -> list[str]:
    """Balanced groups, every argument there, one script of each kind per base, rows inside an
    environment."""
    tokens = [PLAIN_SCRIPTS.get(t, t) for t in tokens]
    return _rows_in_environment(_one_script_each(_complete_arguments(_balanced(tokens))))


def _balanced(tokens: list[str]) -> list[str]:
    """Drop unmatched closers and close what is left open: braces, `\\left`/`\\right`, environments."""
    out: list[str] = []
    stack: list[str] = []  # expected closers
    for tok in tokens:
        if tok == "{":
            stack.append("}")
        elif tok == "\\left":
            stack.append("\\right")
        elif tok.startswith("\\begin{"):
            stack.append("\\end{" + tok[len("\\begin{"):])
        elif tok == "}" or tok == "\\right" or tok.startswith("\\end{"):
            if tok not in stack:
                continue
            while stack[-1] != tok:  # close inner groups the model forgot
                out.extend(_closer(stack.pop()))
            stack.pop()
        out.append(tok)
    while stack:
        out.extend(_closer(stack.pop()))
    if out and out[-1] == "\\left":
        out.pop()
    return out


def _closer(expected: str) -> list[str]:
    return ["\\right", "."] if expected == "\\right" else [expected]


def _argument_end(tokens: list[str], start: int) -> int:
    """The index after the argument that starts at `start`: a braced group or one token."""
    if tokens[start] != "{":
        return start + 1
    depth = 0
    for i in range(start, len(tokens)):
        depth += {"{": 1, "}": -1}.get(tokens[i], 0)
        if depth == 0:
            return i + 1
    return len(tokens)


def _is_stop(tokens: list[str], i: int) -> bool:
    return i >= len(tokens) or tokens[i] in _STOPS or tokens[i].startswith("\\end{")


def _complete_arguments(tokens: list[str]) -> list[str]:
    """An empty group for each argument a command or script operator lacks (`\\frac{a}` at the end)."""
    missing: dict[int, int] = {}  # position -> empty groups to insert there
    for i, tok in enumerate(tokens):
        arity = 1 if tok in SCRIPTS else ARITY.get(tok, 0)
        j = i + 1
        if tok == "\\sqrt" and j < len(tokens) and tokens[j] == "[":  # the optional index
            j = tokens.index("]", j) + 1 if "]" in tokens[j:] else len(tokens)
        for _ in range(arity):
            if _is_stop(tokens, j):
                missing[j] = missing.get(j, 0) + 1
            else:
                j = _argument_end(tokens, j)
    out: list[str] = []
    for i, tok in enumerate(tokens):
        out.extend(["{", "}"] * missing.get(i, 0))
        out.append(tok)
    return out + ["{", "}"] * missing.get(len(tokens), 0)


def _one_script_each(tokens: list[str]) -> list[str]:
    """`x^{a}_{b}^{c}` -> `x^{a}_{b}{}^{c}`: a second superscript (or subscript) of one base gets an
    empty base of its own, which is how it looks anyway."""
    out: list[str] = []
    seen: set[str] = set()  # scripts the current base has
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in SCRIPTS and i + 1 < len(tokens):
            if tok in seen:
                out += ["{", "}"]
                seen = set()
            seen.add(tok)
            end = _argument_end(tokens, i + 1)
            argument = tokens[i + 1: end]
            inner = ["{", *_one_script_each(argument[1:-1]), "}"] if argument[0] == "{" else argument
            out += [tok, *inner]
            i = end
            continue
        if tok == "{":  # a group: its inside has bases of its own, and the whole is the next base
            end = _argument_end(tokens, i)
            out += ["{", *_one_script_each(tokens[i + 1: end - 1]), "}"]
            i, seen = end, set()
            continue
        out.append(tok)
        seen = set() if tok not in ("\\limits", "\\nolimits", "'") else seen
        i += 1
    return out


def _rows_in_environment(tokens: list[str]) -> list[str]:
    """Rows (`\\\\`) or columns (`&`) outside any environment inside `aligned` (with columns) or
    `gathered`: the model learnt multi-line displays from their bodies, as the corpus writes them
    (`a&=b\\\\&=c`), and neither TeX nor KaTeX accepts those bare."""
    while tokens and tokens[-1] == "\\\\":  # a trailing row break (outside: all is balanced) draws an empty row
        tokens = tokens[:-1]
    depth, columns, rows = 0, False, False
    for tok in tokens:
        if tok.startswith("\\begin{"):
            depth += 1
        elif tok.startswith("\\end{"):
            depth -= 1
        elif depth == 0 and tok == "&":
            columns = True
        elif depth == 0 and tok == "\\\\":
            rows = True
    if not (columns or rows):
        return tokens
    env = "aligned" if columns else "gathered"
    return [f"\\begin{{{env}}}", *tokens, f"\\end{{{env}}}"]
