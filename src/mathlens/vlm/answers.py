"""The reasoning a vision-language model writes before its answer, from the label alone.

Uni-MuMER (Li et al., NeurIPS 2025) fine-tunes a VLM on four tasks over the same pictures; three
of them ask for something before the LaTeX: the formula's tree (Tree-CoT), the count of each
symbol (symbol counting), or what is wrong in a reading (error-driven learning). All three are
built here from canonical tokens (`mathlens.tokenizer.normalize`), so every argument is braced
and the tree can be read off the project's own brace parse (`normalize.parse`).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence

from mathlens.tokenizer.normalize import ARITY, Group, parse

# Relations, Uni-MuMER's names where they mean the same: `right` the next symbol on the same line,
# `sup`/`sub` scripts, `above`/`below` a fraction's numerator and denominator or a big operator's
# limits, `inside` the argument of a root, accent or font command (or an environment's body),
# `index` a root's degree, `nextline` the first symbol of a new row.
BIG_OPERATORS = frozenset({
    "\\sum", "\\prod", "\\coprod", "\\int", "\\iint", "\\iiint", "\\oint", "\\lim", "\\limsup", "\\liminf",
    "\\max", "\\min", "\\sup", "\\inf", "\\bigcup", "\\bigcap", "\\bigoplus", "\\bigotimes", "\\bigvee",
    "\\bigwedge", "\\bigsqcup", "\\biguplus"})
TWO_ARGUMENTS: dict[str, tuple[str, str]] = {"\\overset": ("above", "inside"), "\\stackrel": ("above", "inside"),
                                             "\\underset": ("below", "inside")}  # others: above, below
# Tokens that change how a symbol is set, not what is drawn: no node, no count.
MODIFIERS = frozenset({"\\limits", "\\nolimits", "\\left", "\\right", "\\displaystyle", "\\textstyle"})
# Structure, not symbols on the page: the same tokens counting-aware training leaves uncounted
# (mathlens.training.counting.UNCOUNTED, which imports torch).
UNCOUNTED = frozenset({"{", "}", "^", "_", "&", "\\\\", "\\left", "\\right", "\\limits", "\\nolimits"})


def tree_lines(tokens: Sequence[str]) -> list[str]:
    """The formula as a tree, one symbol a line: `symbol (relation)`, a tab deeper per level.

    `\\frac { a ^ { 2 } + 1 } { b }` ->
    `\\frac`, `\\ta (above)`, `\\t\\t2 (sup)`, `\\t+ (right)`, `\\t1 (right)`, `\\tb (below)`: the first
    symbol has no relation, a child chain starts one level deeper, its siblings follow at that level.
    """
    lines: list[str] = []
    _chain(parse(list(tokens)).children, 0, "", lines)
    return lines


def _chain(items: list[str | Group], depth: int, relation: str, lines: list[str]) -> None:
    """Write a sequence of symbols; the first takes `relation`, the rest `right` (or `nextline`)."""
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if isinstance(item, Group):  # braces that group but take no part in the layout
            _chain(item.children, depth, relation, lines)
            relation = "right"
            continue
        if item == "\\\\":
            relation = "nextline"
            continue
        if item in MODIFIERS:
            continue
        lines.append("\t" * depth + (f"{item} ({relation})" if relation else item))
        i = _arguments(item, items, i, depth, lines)
        i = _scripts(item, items, i, depth, lines)
        relation = "right"


def _arguments(symbol: str, items: list[str | Group], i: int, depth: int, lines: list[str]) -> int:
    """A command's arguments (and an environment's body) as children; returns the next index."""
    if symbol.startswith("\\begin{"):
        end, body = _environment_end(symbol, items, i)
        if symbol in ("\\begin{array}", "\\begin{tabular}") and body and isinstance(body[0], Group):
            body = body[1:]  # the column specification draws nothing
        _chain(body, depth + 1, "inside", lines)
        return end
    if symbol == "\\sqrt" and i < len(items) and items[i] == "[":
        close = next((j for j in range(i, len(items)) if items[j] == "]"), len(items))
        _chain(items[i + 1: close], depth + 1, "index", lines)
        i = close + 1
    relations = TWO_ARGUMENTS.get(symbol, ("above", "below")) if ARITY.get(symbol) == 2 else \
        ("inside",) if ARITY.get(symbol) == 1 else ()
    for relation in relations:
        if i < len(items) and isinstance(items[i], Group):
            _chain(items[i].children, depth + 1, relation, lines)  # type: ignore[union-attr]
            i += 1
    return i


def _scripts(symbol: str, items: list[str | Group], i: int, depth: int, lines: list[str]) -> int:
    """`_ { .. }` and `^ { .. }` after a symbol (past `\\limits`) as its children."""
    limits = symbol in BIG_OPERATORS
    while i < len(items) and items[i] in MODIFIERS:
        i += 1
    while i + 1 < len(items) and items[i] in ("_", "^") and isinstance(items[i + 1], Group):
        relation = ("below" if limits else "sub") if items[i] == "_" else ("above" if limits else "sup")
        _chain(items[i + 1].children, depth + 1, relation, lines)  # type: ignore[union-attr]
        i += 2
    return i


def _environment_end(begin: str, items: list[str | Group], i: int) -> tuple[int, list[str | Group]]:
    """Index after the matching `\\end{...}` and the items between."""
    end, level = "\\end{" + begin[len("\\begin{"):], 1
    for j in range(i, len(items)):
        level += (items[j] == begin) - (items[j] == end)
        if level == 0:
            return j + 1, items[i:j]
    return len(items), items[i:]


def symbol_counts(tokens: Sequence[str]) -> list[tuple[str, int]]:
    """Each symbol drawn and how often, in the order they first appear (braces, scripts, `&`, row
    breaks, sizing commands, `\\end{...}` and the brackets of a root's degree are structure)."""
    drawn = [t for i, t in enumerate(tokens) if t not in UNCOUNTED and not t.startswith("\\end{")
             and not _root_bracket(tokens, i)]
    counts = Counter(drawn)
    return [(t, counts[t]) for t in dict.fromkeys(drawn)]


def _root_bracket(tokens: Sequence[str], i: int) -> bool:
    """`[` right after `\\sqrt`, or the `]` that closes it."""
    if tokens[i] == "[":
        return i > 0 and tokens[i - 1] == "\\sqrt"
    if tokens[i] != "]":
        return False
    opening = max((j for j in range(i) if tokens[j] in ("[", "]")), default=-1)
    return opening > 0 and tokens[opening] == "[" and tokens[opening - 1] == "\\sqrt"


def format_counts(counts: list[tuple[str, int]]) -> str:
    """`x: 2, +: 1`: Uni-MuMER's counting line."""
    return ", ".join(f"{symbol}: {n}" for symbol, n in counts)


def reading_errors(reading: Sequence[str], truth: Sequence[str]) -> list[str]:
    """What is wrong in `reading`, one edit a line, in reading order (token-level diff):
    `wrong: x -> \\times`, `extra: 2`, `missing: ) after b` (or `at the start`)."""
    edits = []
    matcher = difflib.SequenceMatcher(a=list(reading), b=list(truth), autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        read, right = " ".join(reading[a0:a1]), " ".join(truth[b0:b1])
        if op == "replace":
            edits.append(f"wrong: {read} -> {right}")
        elif op == "delete":
            edits.append(f"extra: {read}")
        elif op == "insert":
            edits.append(f"missing: {right} " + (f"after {reading[a0 - 1]}" if a0 else "at the start"))
    return edits
