"""One canonical token sequence per formula, used for training targets and for scoring.

Different spellings that render the same become one: aliases (`\\le` -> `\\leq`), arguments of
scripts and known commands always braced (`x^2` -> `x ^ { 2 }`, `\\frac12` ->
`\\frac { 1 } { 2 }`), braces that change nothing on the page dropped (around one atom, as in
`{ \\bar { K } } _ { a }` -> `\\bar { K } _ { a }`, one atom and its scripts, a run of ordinary
atoms, or another group), old font switches written as commands (`{ \\cal A }` ->
`\\mathcal { A }`), primes as apostrophes (`f ^ { \\prime \\prime }` -> `f ' '`), and upright
words of letters and digits in one spelling (`\\text { e f f }` -> `\\mathrm { e f f }`), and
no row break right before the end of an array or matrix (im2latex-100k writes one after every
row; TeX draws no row for it). Both sides of a comparison go through the same function.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mathlens.errors import LatexSyntaxError
from mathlens.tokenizer.lexer import tokenize

ALIASES: dict[str, str] = {
    "\\le": "\\leq", "\\ge": "\\geq", "\\ne": "\\neq", "\\to": "\\rightarrow",
    "\\gets": "\\leftarrow", "\\lbrace": "\\{", "\\rbrace": "\\}", "\\land": "\\wedge",
    "\\lor": "\\vee", "\\lnot": "\\neg", "\\vert": "|", "\\lvert": "|", "\\rvert": "|",
    "\\Vert": "\\|", "\\lVert": "\\|", "\\rVert": "\\|", "\\dfrac": "\\frac", "\\tfrac": "\\frac",
    "\\dbinom": "\\binom", "\\tbinom": "\\binom", "\\textrm": "\\text", "\\mbox": "\\text",
    "\\hbox": "\\text", "\\textnormal": "\\text", "\\bm": "\\boldsymbol", "\\lbrack": "[",
    "\\rbrack": "]", "\\iff": "\\Longleftrightarrow", "\\implies": "\\Longrightarrow",
    "\\dots": "\\ldots", "\\dotsc": "\\ldots", "\\dotsb": "\\cdots", "\\dotsm": "\\cdots",
    "\\owns": "\\ni", "\\doteqdot": "\\Doteq", "\\Bbb": "\\mathbb", "\\thinspace": "\\,",
    "\\medspace": "\\:", "\\thickspace": "\\;", "\\negthinspace": "\\!", "\\>": "\\:",
    "\\lt": "<", "\\gt": ">",  # MathJax's names, used by the CROHME 2013 test labels
    "\\ast": "*", "\\dag": "\\dagger",  # in math mode TeX draws each pair as one and the same symbol
}

# Commands whose arguments are braced groups; a bare next atom is wrapped in braces.
ARITY: dict[str, int] = {
    **{c: 2 for c in ("\\frac", "\\binom", "\\stackrel", "\\overset", "\\underset", "\\cfrac")},
    **{c: 1 for c in (
        "\\sqrt", "\\hat", "\\widehat", "\\tilde", "\\widetilde", "\\bar", "\\overline",
        "\\underline", "\\vec", "\\dot", "\\ddot", "\\dddot", "\\acute", "\\grave", "\\breve",
        "\\check", "\\mathring", "\\overrightarrow", "\\overleftarrow", "\\overbrace",
        "\\underbrace", "\\mathrm", "\\mathbf", "\\mathit", "\\mathsf", "\\mathtt", "\\mathcal",
        "\\mathbb", "\\mathfrak", "\\mathscr", "\\boldsymbol", "\\operatorname",
        "\\operatorname*", "\\text", "\\textbf", "\\textit", "\\textsf", "\\texttt", "\\pmod",
        "\\phantom", "\\hphantom", "\\vphantom", "\\boxed", "\\cancel", "\\mathop", "\\mathbin",
        "\\mathrel", "\\mathord", "\\overleftrightarrow", "\\widecheck", "\\emph",
    )},
}
# Groups that start with a declaration scope it; their braces carry meaning.
DECLARATIONS = frozenset(
    {"\\rm", "\\bf", "\\it", "\\sf", "\\tt", "\\cal", "\\mit", "\\em", "\\displaystyle",
     "\\textstyle", "\\scriptstyle", "\\scriptscriptstyle", "\\boldmath", "\\tiny", "\\small",
     "\\large", "\\Large", "\\LARGE", "\\huge", "\\Huge", "\\normalsize", "\\footnotesize",
     "\\scriptsize", "\\color", "\\over", "\\atop", "\\choose", "\\frak", "\\Bbb"}
)
SCRIPTS = frozenset({"_", "^"})
NOT_ATOMS = DECLARATIONS | SCRIPTS | {"&", "\\\\", "\\ "}  # what cannot start an atom
# Binary operators, relations and punctuation: at the edge of a group, braces change their
# spacing (`{-1}` is a unary minus), so such groups keep them.
SPACED = frozenset(
    {"+", "-", "*", "=", "<", ">", ":", ",", ";", "!", "\\pm", "\\mp", "\\times", "\\div", "\\cdot",
     "\\circ", "\\star", "\\bullet", "\\cap", "\\cup", "\\wedge", "\\vee", "\\oplus", "\\otimes",
     "\\ominus", "\\odot", "\\setminus", "\\leq", "\\geq", "\\neq", "\\equiv", "\\approx", "\\sim",
     "\\simeq", "\\cong", "\\propto", "\\subset", "\\supset", "\\subseteq", "\\supseteq", "\\in",
     "\\ni", "\\notin", "\\perp", "\\parallel", "\\mid", "\\rightarrow", "\\leftarrow",
     "\\Rightarrow", "\\Leftarrow", "\\leftrightarrow", "\\Leftrightarrow", "\\longrightarrow",
     "\\Longrightarrow", "\\Longleftrightarrow", "\\mapsto", "\\ll", "\\gg", "\\prec", "\\succ",
     "\\preceq", "\\succeq", "\\vdash", "\\dashv", "\\models", "\\doteq", "\\asymp", "\\dagger",
     "\\ddagger", "\\uplus", "\\sqcap", "\\sqcup", "\\wr", "\\amalg", "\\lhd", "\\rhd",
     "\\triangleleft", "\\triangleright", "\\ldots", "\\cdots", "\\quad", "\\qquad", "\\,", "\\:",
     "\\;", "\\!", "\\ "})
# Array-like environments: a `\\` right before their end adds no row (they close with \crcr).
ROW_ENVS = frozenset(f"\\end{{{env}}}" for env in (
    "array", "tabular", "matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix", "cases"))
# Font switches that act like a command over the rest of their group: `{\bf x}` is `\mathbf{x}`.
FONT_SWITCHES: dict[str, str] = {"\\rm": "\\mathrm", "\\bf": "\\mathbf", "\\it": "\\mathit",
                                 "\\sf": "\\mathsf", "\\tt": "\\mathtt", "\\cal": "\\mathcal"}


@dataclass
class Group:
    """A brace group; `children` holds tokens (str) and nested groups."""

    children: list[str | Group] = field(default_factory=list)
    is_argument: bool = False


def parse(tokens: list[str]) -> Group:
    """Nest tokens into brace groups; raises LatexSyntaxError when braces do not balance."""
    stack = [Group()]
    for pos, tok in enumerate(tokens):
        if tok == "{":
            group = Group()
            stack[-1].children.append(group)
            stack.append(group)
        elif tok == "}":
            if len(stack) == 1:
                raise LatexSyntaxError("unbalanced '}'", pos)
            stack.pop()
        else:
            stack[-1].children.append(tok)
    if len(stack) != 1:
        raise LatexSyntaxError("unclosed '{'", len(tokens))
    return stack[0]


def _take_atom(items: list[str | Group], i: int) -> tuple[Group, int]:
    """Wrap the atom at items[i] (a token or group) as an argument group; return next index."""
    item = items[i]
    if isinstance(item, Group):
        item.is_argument = True
        return item, i + 1
    end = i + 1 + ARITY.get(ALIASES.get(item, item), 0)  # `x^\frac12`: the command takes its args
    return Group(list(items[i:end]), is_argument=True), min(end, len(items))


def _brace_arguments(group: Group) -> None:
    items = group.children
    out: list[str | Group] = []
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if isinstance(item, Group):
            _brace_arguments(item)
            out.append(item)
            continue
        item = ALIASES.get(item, item)
        out.append(item)
        num_args = 1 if item in SCRIPTS else ARITY.get(item, 0)
        if item == "\\sqrt" and i < len(items) and items[i] == "[":
            while i < len(items) and items[i] != "]":  # optional [n] copied through
                nxt = items[i]
                if isinstance(nxt, Group):
                    _brace_arguments(nxt)
                out.append(nxt)
                i += 1
            if i < len(items):
                out.append(items[i])
                i += 1
        if item in {"\\begin{array}", "\\begin{tabular}"}:
            num_args = 1
        for _ in range(num_args):
            while i < len(items) and items[i] == "\\ ":
                i += 1
            if i >= len(items):
                break
            arg, i = _take_atom(items, i)
            _brace_arguments(arg)
            out.append(arg)
    group.children = out


def _font_switches_to_commands(group: Group) -> None:
    """`a \\bf b c` -> `a \\mathbf { b c }`: a switch lasts to the end of its group or table cell."""
    items = group.children
    out: list[str | Group] = []
    i = 0
    while i < len(items):
        item = items[i]
        if isinstance(item, Group):
            _font_switches_to_commands(item)
        if isinstance(item, str) and item in FONT_SWITCHES:
            end = next((j for j in range(i + 1, len(items)) if _ends_cell(items[j])), len(items))
            scope = Group(items[i + 1: end])
            _font_switches_to_commands(scope)  # a second switch inside the scope
            out += [FONT_SWITCHES[item], scope]
            i = end
            continue
        out.append(item)
        i += 1
    group.children = out


def _ends_cell(item: str | Group) -> bool:
    return isinstance(item, str) and (item in ("&", "\\\\") or item.startswith("\\end{"))


def _primes_to_apostrophes(group: Group) -> None:
    """`^ { \\prime \\prime }` -> `' '`: the superscript TeX makes of an apostrophe."""
    out: list[str | Group] = []
    items = group.children
    i = 0
    while i < len(items):
        item = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if item == "^" and isinstance(nxt, Group) and nxt.children and all(c == "\\prime" for c in nxt.children):
            out += ["'"] * len(nxt.children)
            i += 2
            continue
        if isinstance(item, Group):
            _primes_to_apostrophes(item)
        out.append(item)
        i += 1
    group.children = out


def _plain_text_as_mathrm(group: Group) -> None:
    """`\\text { T r }` -> `\\mathrm { T r }`: letters and digits look the same in both (upright
    roman). Text with spaces or punctuation keeps `\\text`: there it renders differently."""
    items = group.children
    for i, item in enumerate(items):
        if isinstance(item, Group):
            _plain_text_as_mathrm(item)
        elif item == "\\text" and i + 1 < len(items) and _letters_and_digits(items[i + 1]):
            items[i] = "\\mathrm"


def _letters_and_digits(item: str | Group) -> bool:
    return isinstance(item, Group) and bool(item.children) and all(
        isinstance(c, str) and len(c) == 1 and c.isascii() and c.isalnum() for c in item.children)


def _leading_atom(kids: list[str | Group]) -> int:
    """How many items the atom `kids` starts with spans: a group, a token, or a command with its
    argument groups; 0 when it starts with a declaration, a script or a separator."""
    head = kids[0]
    if isinstance(head, Group):
        return 1
    if head in NOT_ATOMS:
        return 0
    size = 1 + ARITY.get(head, 0)
    return size if all(isinstance(k, Group) and k.is_argument for k in kids[1:size]) else 0


def _is_single_atom(group: Group) -> bool:
    kids = group.children
    if len(kids) == 1 and isinstance(kids[0], str):
        return kids[0] not in NOT_ATOMS
    return bool(kids) and _leading_atom(kids) == len(kids)  # `{ \frac { a } { b } }`: a command and its arguments


def _lift_nested_groups(group: Group) -> None:
    """`{ { a + b } }` -> `{ a + b }`: a group that holds nothing but another group is that group."""
    for child in group.children:
        if isinstance(child, Group):
            _lift_nested_groups(child)
    kids = group.children
    if len(kids) == 1 and isinstance(kids[0], Group) and not kids[0].is_argument:
        group.children = kids[0].children


def _is_scripted_atom(group: Group) -> bool:
    """`{ h _ { 0 } ^ { 0 } }`, `{ \\bar { x } ' }`: one atom followed by its scripts only."""
    kids = group.children
    size = _leading_atom(kids) if kids and kids[0] != "'" else 0
    if not size:
        return False
    rest, i = kids[size:], 0
    while i < len(rest):
        if rest[i] == "'":
            i += 1
        elif rest[i] in ("_", "^") and i + 1 < len(rest) and isinstance(rest[i + 1], Group):
            i += 2
        else:
            return False
    return bool(rest)


def _is_plain_run(group: Group) -> bool:
    """`{ \\{ P , X \\} }`: ordinary atoms at both ends and no declaration, table cell or `\\over`
    inside; TeX sets it the same with or without the braces."""
    kids = group.children
    if not kids or any(isinstance(k, str) and (k in DECLARATIONS or _ends_cell(k)) for k in kids):
        return False
    return all(not isinstance(k, str) or (k not in SPACED and k not in SCRIPTS and k != "'") for k in (kids[0], kids[-1]))


def _keeps_braces(group: Group, before_script: bool, after_command: bool) -> bool:
    """Arguments keep their braces; so does a group a script follows (`{ x _ { 1 } } ^ { 2 }`)
    or an unknown command may take (`\\hspace { 1 c m }`). Groups of one atom, of one atom and
    its scripts, or of ordinary atoms render the same without them."""
    if group.is_argument:
        return True
    if _is_single_atom(group):
        return False
    if before_script or after_command:
        return True
    return not (_is_scripted_atom(group) or _is_plain_run(group))


def _flatten(group: Group, out: list[str]) -> None:
    kids = group.children
    for i, child in enumerate(kids):
        if not isinstance(child, Group):
            out.append(child)
            continue
        nxt = kids[i + 1] if i + 1 < len(kids) else None
        prev = kids[i - 1] if i > 0 else None
        braces = _keeps_braces(child, before_script=nxt in ("_", "^", "'"),
                               after_command=isinstance(prev, str) and prev[:1] == "\\" and prev[1:2].isalpha())
        if braces:
            out.append("{")
        _flatten(child, out)
        if braces:
            out.append("}")


def normalize_tokens(tokens: list[str]) -> list[str]:
    """Canonical form of a token list (see module docstring)."""
    tree = parse(tokens)
    _font_switches_to_commands(tree)
    _brace_arguments(tree)
    _lift_nested_groups(tree)
    _primes_to_apostrophes(tree)
    _plain_text_as_mathrm(tree)
    out: list[str] = []
    _flatten(tree, out)
    return [t for i, t in enumerate(out) if not (t == "\\\\" and i + 1 < len(out) and out[i + 1] in ROW_ENVS)]


def normalize(latex: str) -> list[str]:
    """Tokenize and normalize a LaTeX string in one step."""
    return normalize_tokens(tokenize(latex))
