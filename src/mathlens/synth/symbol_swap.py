"""Symbol swaps: new handwritten expressions from the symbol segmentation of the CROHME training ink.

Most handwriting errors are one symbol read as another (`x`/`X`, `4`/`1`, `z`/`2`: seven in ten
token edits on the CROHME 2014 InkML), and CROHME has only 8,835 training expressions.
Every training file says which strokes make which symbol, so a letter, digit, operator or
relation can be redrawn with another writer's instance of another of its kind, and the caption
changed to match: `x ^ { 2 } + 1` becomes `b ^ { 7 } \times 1` in a new hand, the layout kept. A
label is swapped only where the caption holds it exactly as often as the segmentation does, so
every occurrence changes in both, and only for a glyph that fits the old one's place.
"""

from __future__ import annotations

import random
import string
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mathlens.inference.inkml import SYMBOL_HEIGHT_PX, Ink, Symbol, ink_scale

DIGITS = frozenset(string.digits)
GREEK = frozenset({"\\alpha", "\\beta", "\\gamma", "\\theta", "\\pi", "\\phi", "\\sigma", "\\mu", "\\lambda",
                   "\\Delta"})
LETTERS = frozenset(string.ascii_letters) | GREEK
# Operators and relations sit on the math axis: centred where the old one was, at the writer's size.
OPERATORS = frozenset({"+", "-", "\\times", "\\div", "\\pm"})
RELATIONS = frozenset({"=", "\\lt", "\\gt", "\\leq", "\\geq", "\\neq"})
CENTRED = OPERATORS | RELATIONS
KINDS = {"digits": DIGITS, "letters": LETTERS, "operators": OPERATORS, "relations": RELATIONS}
DEFAULT_KINDS = ("digits", "letters")  # swapping operators and relations too measured no gain (docs/experiments.md)
CAPTION_TOKEN = {"\\lt": "<", "\\gt": ">"}  # the segmentation says `\lt`, the captions `<`
# Below the baseline by about a third of their height; the rest sit on it.
DESCENDERS = frozenset({"g", "j", "p", "q", "y", "\\beta", "\\gamma", "\\mu"})
DESCENT = 0.35
MIN_INSTANCES = 5  # a label with fewer glyphs would repeat the same few hands
TRIES = 8


def kind_of(label: str) -> frozenset[str] | None:
    """The labels a symbol may turn into: digits, letters (Latin or Greek), operators, relations among themselves."""
    return next((kind for kind in KINDS.values() if label in kind), None)


def caption_token(label: str) -> str:
    return CAPTION_TOKEN.get(label, label)


@dataclass(frozen=True)
class Glyph:
    strokes: tuple[np.ndarray, ...]  # box corner at (0, 0), in units of its writer's symbol size
    width: float
    height: float

    @classmethod
    def of(cls, ink: Ink, symbol: Symbol, size: float) -> Glyph:
        """The symbol's strokes with its box corner at (0, 0), in units of `size` (its writer's symbol height)."""
        lo, hi = symbol_box(ink, symbol)
        width, height = (hi - lo) / size
        return cls(tuple((ink.strokes[i] - lo) / size for i in symbol.strokes), float(width), float(height))


class SymbolBank:
    """Every letter, digit, operator and relation of the training ink, free of its writer's scale and position."""

    def __init__(self) -> None:
        self.glyphs: dict[str, list[Glyph]] = defaultdict(list)
        self._heights: dict[str, float] = {}

    def add(self, ink: Ink, caption: Sequence[str] = ()) -> None:
        """Bank the ink's glyphs; operators and relations only where `caption` counts them as the ink does.

        Fraction bars are annotated `-` too: the count check keeps them out of the minus signs.
        """
        size = writer_size(ink)
        counts = Counter(caption)
        annotated = Counter(symbol.label for symbol in ink.symbols)
        for symbol in ink.symbols:
            kind = kind_of(symbol.label)
            if kind is None or (symbol.label in CENTRED
                                and counts[caption_token(symbol.label)] != annotated[symbol.label]):
                continue
            glyph = Glyph.of(ink, symbol, size)
            if (max(glyph.width, glyph.height) if symbol.label in CENTRED else glyph.height) > 0.05:  # a `-` is flat
                self.glyphs[symbol.label].append(glyph)
        self._heights.clear()

    def labels(self, kind: frozenset[str]) -> list[str]:
        return sorted(label for label in kind if len(self.glyphs.get(label, ())) >= MIN_INSTANCES)

    def relative_height(self, label: str) -> float:
        """The label's median height against its writers' typical symbol: `b` is taller than `a`."""
        if label not in self._heights:
            self._heights[label] = float(np.median([g.height for g in self.glyphs[label]]))
        return self._heights[label]


def writer_size(ink: Ink) -> float:
    """The writer's typical symbol height, in ink units."""
    return SYMBOL_HEIGHT_PX / ink_scale(ink.strokes)


def symbol_box(ink: Ink, symbol: Symbol) -> tuple[np.ndarray, np.ndarray]:
    points = np.concatenate([ink.strokes[i] for i in symbol.strokes])
    return points.min(axis=0), points.max(axis=0)


def _place(glyph: Glyph, new: str, old: str, lo: np.ndarray, hi: np.ndarray,
           bank: SymbolBank, size: float) -> list[np.ndarray] | None:
    """The glyph drawn where the old symbol was: same baseline and centre, height by label; None if too wide.

    Operators and relations keep the centre, at the writer's `size`: a `-` has no height to scale by.
    """
    if old in CENTRED:
        width, height = glyph.width * size, glyph.height * size
        if width > (hi[0] - lo[0]) + 0.5 * size:
            return None
        corner = (lo + hi) / 2 - np.array([width, height]) / 2
        return [s * size + corner for s in glyph.strokes]
    old_height = float(hi[1] - lo[1])
    if old_height <= 0:
        return None
    height = old_height * bank.relative_height(new) / bank.relative_height(old)
    k = height / glyph.height
    width = glyph.width * k
    if width > (hi[0] - lo[0]) + 0.5 * max(old_height, height):
        return None  # it would run into its neighbours
    baseline = hi[1] - (DESCENT * old_height if old in DESCENDERS else 0.0)
    bottom = baseline + (DESCENT * height if new in DESCENDERS else 0.0)
    corner = np.array([(lo[0] + hi[0]) / 2 - width / 2, bottom - height])
    return [s * k + corner for s in glyph.strokes]


def swap_symbols(ink: Ink, caption: list[str], bank: SymbolBank, rng: random.Random,
                 max_labels: int = 2, kinds: Sequence[str] = DEFAULT_KINDS) -> tuple[list[np.ndarray], list[str]] | None:
    """Strokes and caption tokens with one or two labels redrawn as others of their kind; None if none can be.

    `kinds` names the kinds that may change (keys of KINDS).
    """
    allowed = frozenset().union(*(KINDS[kind] for kind in kinds))
    by_label: dict[str, list[Symbol]] = defaultdict(list)
    for symbol in ink.symbols:
        if symbol.label in allowed:
            by_label[symbol.label].append(symbol)
    counts = Counter(caption)
    choices = {label: [other for other in bank.labels(kind_of(label)) if other != label]  # type: ignore[arg-type]
               for label in by_label}
    swappable = sorted(label for label, symbols in by_label.items()
                       if counts[caption_token(label)] == len(symbols) and bank.glyphs.get(label) and choices[label])
    if not swappable:
        return None
    removed: set[int] = set()
    added: list[np.ndarray] = []
    renamed: dict[str, str] = {}
    size = writer_size(ink)
    for old in rng.sample(swappable, rng.randint(1, min(max_labels, len(swappable)))):
        for _ in range(TRIES):
            new = rng.choice(choices[old])
            glyph = rng.choice(bank.glyphs[new])  # one hand for every occurrence, as one writer would
            placed = [_place(glyph, new, old, *symbol_box(ink, s), bank, size) for s in by_label[old]]
            if all(p is not None for p in placed):
                removed.update(i for s in by_label[old] for i in s.strokes)
                added.extend(stroke for p in placed for stroke in p)  # type: ignore[union-attr]
                renamed[caption_token(old)] = caption_token(new)
                break
    if not renamed:
        return None
    strokes = [s for i, s in enumerate(ink.strokes) if i not in removed] + added
    return strokes, [renamed.get(token, token) for token in caption]
