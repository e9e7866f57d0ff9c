"""Corpus formulas written by hand: TeX lays each formula out, the CROHME writers' glyphs fill it in.

CROHME has 8,835 training expressions; about 90,000 corpus formulas use only CROHME's 111
symbols. TeX typesets each one (the DVI names every glyph's font, code, position and box, and
every rule), and each glyph is redrawn with a handwritten instance of its symbol from the
training ink's segmentation, fitted to the glyph's box; fraction bars and radicals are stretched
over their extent. The label is the formula's tokens in the CROHME convention, which is also
what TeX typeset, so picture and label agree. New structures in real hands, where symbol swaps
(`symbol_swap`) only give the training layouts new symbols.
"""

from __future__ import annotations

import logging
import random
import string
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from mathlens.synth.corpus import read_corpus
from mathlens.synth.ink_corpus import in_crohme_symbols, inkml_shards, read_captions, with_crohme_limits, writing_variant
from mathlens.inference.inkml import Ink, parse_inkml, render_strokes
from mathlens.data.manifest import merge_parts, write_part
from mathlens.synth.render import FONTS, typeset_pages
from mathlens.synth.symbol_swap import Glyph, writer_size
from mathlens.errors import InvalidInputError, LatexSyntaxError
from mathlens.tokenizer.normalize import normalize

logger = logging.getLogger(__name__)

# Computer Modern glyphs (font family, character code) -> the CROHME segmentation label drawn for it.
_CMR = {**{48 + d: str(d) for d in range(10)}, 40: "(", 41: ")", 43: "+", 61: "=", 91: "[", 93: "]",
        33: "!", 1: "\\Delta", 47: "/"}
_CMMI = {**{ord(c): c for c in string.ascii_letters}, 11: "\\alpha", 12: "\\beta", 13: "\\gamma",
         18: "\\theta", 21: "\\lambda", 22: "\\mu", 25: "\\pi", 27: "\\sigma", 30: "\\phi",
         58: ".", 59: ",", 60: "\\lt", 61: "/", 62: "\\gt"}
_NOT = "\\not"  # TeX draws \neq as a zero-width slash over `=`; the bank has whole `\neq`s
_CMSY = {0: "-", 1: ".", 2: "\\times", 4: "\\div", 6: "\\pm", 20: "\\leq", 21: "\\geq", 33: "\\rightarrow",
         48: "\\prime", 49: "\\infty", 50: "\\in", 54: _NOT, 56: "\\forall", 57: "\\exists", 102: "\\{",
         103: "\\}", 106: "|", 112: "\\sqrt"}  # \cdot (1) is drawn as a dot: CROHME annotates none
_CMEX = {80: "\\sum", 88: "\\sum", 82: "\\int", 90: "\\int", **{c: "\\sqrt" for c in range(112, 117)},
         **{c: "(" for c in (0, 16, 18, 32)}, **{c: ")" for c in (1, 17, 19, 33)},
         **{c: "[" for c in (2, 20, 34, 104)}, **{c: "]" for c in (3, 21, 35, 105)},
         **{c: "\\{" for c in (8, 26, 40, 110)}, **{c: "\\}" for c in (9, 27, 41, 111)}, 12: "|"}
FONT_LABELS = {"cmr": _CMR, "cmmi": _CMMI, "cmsy": _CMSY, "cmex": _CMEX}
FUNCTIONS = frozenset({"sin", "cos", "tan", "log", "lim"})  # upright letter runs the bank holds as one symbol
STRETCHED = frozenset({"\\sqrt", "-"})  # fitted to their box in both directions: radicals, fraction bars
FLAT = frozenset({"-", "=", "\\neq", "\\rightarrow", ".", ","})  # sized by width: no height to go by
UNIT_PT = 8.0  # a writer's typical symbol (a digit) at 12 pt, in points
_NEAR_PT = 1.0


@dataclass(frozen=True)
class Item:
    """One symbol to draw: its label and its box in points, y growing downwards."""

    label: str
    x0: float
    y0: float
    x1: float
    y1: float


def glyph_label(font: str, code: int) -> str | None:
    """The CROHME label drawn for a Computer Modern glyph (`cmmi12`, 120 -> `x`); None if it has none."""
    return FONT_LABELS.get(font.rstrip(string.digits), {}).get(code)


def page_items(text: list, boxes: list) -> list[Item] | None:
    """A typeset page (matplotlib.dviread's Text and Box records, in points) as symbols to draw.

    None if a glyph has no handwritten counterpart (a bold letter, an upright word that is no
    function name): the formula is left out rather than drawn wrong.
    """
    items: list[Item] = []
    rules = [Item("-", b.x, -(b.y + b.height), b.x + b.width, -b.y) for b in boxes]
    word: list[tuple[str, Item]] = []
    pending_not = False
    for t in text:
        font = t.font.texname.decode()
        height, depth = _height_depth(font, t.glyph, t.font.size)
        box = Item("", t.x, -(t.y + height), t.x + t.width, -(t.y - depth))
        if font.rstrip(string.digits) == "cmr" and chr(t.glyph) in string.ascii_lowercase:
            word.append((chr(t.glyph), box))
            continue
        if word and not _close_word(word, items):
            return None
        word = []
        label = glyph_label(font, t.glyph)
        if label is None:
            return None
        if label == _NOT:
            pending_not = True
            continue
        if pending_not:
            if label != "=":
                return None
            label, pending_not = "\\neq", False
        if label == "\\sqrt":
            rule = next((r for r in rules if abs(r.x0 - box.x1) < _NEAR_PT and abs(r.y0 - box.y0) < _NEAR_PT), None)
            if rule is None:
                return None
            rules.remove(rule)
            box = Item("", box.x0, rule.y0, rule.x1, box.y1)
        items.append(Item(label, box.x0, box.y0, box.x1, box.y1))
    if (word and not _close_word(word, items)) or pending_not:
        return None
    return items + rules


@cache
def _tfm(font: str):  # noqa: ANN202 - matplotlib.dviread.Tfm
    from matplotlib import dviread

    return dviread.Tfm(dviread.find_tex_file(f"{font}.tfm"))


def _height_depth(font: str, code: int, size_pt: float) -> tuple[float, float]:
    """A glyph's height above and depth below its baseline, in points (TFM units are 2^-20 of the size)."""
    metrics = _tfm(font).get_metrics(code)
    if metrics is None:
        return 0.0, 0.0
    return metrics.tex_height * size_pt / 2**20, metrics.tex_depth * size_pt / 2**20


def _close_word(word: list[tuple[str, Item]], items: list[Item]) -> bool:
    """Append an upright letter run as one function-name symbol; False if it is not one."""
    name = "".join(letter for letter, _ in word)
    if name not in FUNCTIONS:
        return False
    boxes = [box for _, box in word]
    items.append(Item(f"\\{name}", boxes[0].x0, min(b.y0 for b in boxes), boxes[-1].x1, max(b.y1 for b in boxes)))
    return True


def glyph_bank(inks: list[Ink]) -> dict[str, list[Glyph]]:
    """Every annotated symbol of the ink, free of its writer's scale and position."""
    bank: dict[str, list[Glyph]] = defaultdict(list)
    for ink in inks:
        size = writer_size(ink)
        for symbol in ink.symbols:
            bank[symbol.label].append(Glyph.of(ink, symbol, size))
    return dict(bank)


def draw_items(items: list[Item], bank: dict[str, list[Glyph]], rng: random.Random) -> list[np.ndarray] | None:
    """Strokes (in points) writing every item with a bank glyph; None if the bank lacks a label.

    One instance per label and formula, as one writer would write each `x` alike; each placed
    with a little of a hand's drift in size and position.
    """
    chosen: dict[str, Glyph] = {}
    strokes: list[np.ndarray] = []
    for item in items:
        if not bank.get(item.label):
            return None
        glyph = chosen.setdefault(item.label, rng.choice(bank[item.label]))
        strokes += _fit(glyph, item, rng)
    return strokes


def _fit(glyph: Glyph, item: Item, rng: random.Random) -> list[np.ndarray]:
    width, height = item.x1 - item.x0, item.y1 - item.y0
    gw, gh = max(glyph.width, 1e-3), max(glyph.height, 1e-3)
    if item.label in STRETCHED:  # a fraction bar keeps the writer's wobble: its height scales like a symbol
        sx = width / gw
        sy = height / gh if item.label == "\\sqrt" else UNIT_PT
    else:
        s = min(width / gw, height / gh, 2 * UNIT_PT) if item.label in FLAT else min(height / gh, 1.5 * width / gw)
        sx = sy = s * rng.uniform(0.88, 1.12)
    centre = np.array([(item.x0 + item.x1) / 2, (item.y0 + item.y1) / 2])
    centre += np.array([rng.gauss(0, 0.05), rng.gauss(0, 0.05)]) * UNIT_PT
    scale = np.array([sx, sy])
    middle = np.array([gw, gh]) * scale / 2
    return [s * scale - middle + centre for s in glyph.strokes]


# --- typesetting -------------------------------------------------------------------------------

def tex_source(tokens: list[str]) -> str:
    """The LaTeX TeX lays out: the caption itself, but an integral keeps its bounds at the side, as hands write them."""
    out = [t for i, t in enumerate(tokens) if not (t == "\\limits" and i and tokens[i - 1] == "\\int")]
    return " ".join(out)


def typeset(sources: list[str], timeout_s: float = 300.0) -> list[list[Item] | None]:
    """Each source's symbols to draw (None where TeX failed or a glyph has no hand), one `latex` run for all."""
    from matplotlib import dviread  # training-data only: plain inference does not need matplotlib

    with tempfile.TemporaryDirectory(prefix="mathlens-layout-") as tmp:
        dvi_path, broken, seen = typeset_pages([f"$\\displaystyle {s}$" for s in sources], Path(tmp), FONTS["cm"],
                                               timeout_s)
        out: list[list[Item] | None] = [None] * len(sources)
        with dviread.Dvi(str(dvi_path), 72.27) as dvi:  # 72.27 dpi: positions in TeX points
            for index, page in enumerate(dvi):
                if index < seen and index not in broken:
                    out[index] = page_items(page.text, page.boxes)
    return out


# --- the corpus --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayoutRenderConfig:
    corpus_path: Path
    inkml_tar: Path
    captions: Path
    dictionary: Path
    out_dir: Path
    limit: int | None = None  # corpus formulas to write (the training captions are always all written)
    max_tokens: int = 100
    shard_size: int = 500
    width_range: tuple[float, float] = (1.1, 2.6)
    symbol_height_range: tuple[float, float] = (11.0, 18.0)
    seed: int = 0


def crohme_formulas(cfg: LayoutRenderConfig) -> list[list[str]]:
    """Caption tokens of the corpus formulas written only in CROHME symbols, then of the training captions, shuffled."""
    vocabulary = {line.split("\t")[0] for line in cfg.dictionary.read_text(encoding="utf-8").splitlines() if line}
    corpus = []
    for entry in read_corpus(cfg.corpus_path, 1, cfg.max_tokens):
        tokens = with_crohme_limits(in_crohme_symbols(entry.tokens))
        if tokens and all(t in vocabulary for t in tokens):
            corpus.append(tokens)
    rng = random.Random(cfg.seed)
    rng.shuffle(corpus)
    formulas = corpus[: cfg.limit]
    for caption in read_captions(cfg.captions).values():
        try:
            formulas.append(with_crohme_limits(normalize(caption)))
        except LatexSyntaxError:
            continue
    rng.shuffle(formulas)
    return formulas


def _render_shard(index: int, formulas: list[list[str]], bank: dict[str, list[Glyph]],
                  cfg: LayoutRenderConfig) -> int:
    shard_dir = cfg.out_dir / f"shard{index:04d}"
    shard_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(cfg.seed * 1_000_003 + index)
    records = []
    for i, (tokens, items) in enumerate(zip(formulas, typeset([tex_source(t) for t in formulas]))):
        strokes = draw_items(items, bank, rng) if items else None
        if not strokes:
            continue
        scale = rng.uniform(*cfg.symbol_height_range) / UNIT_PT  # known here: a long fraction bar fools ink_scale
        strokes = writing_variant(strokes, rng, px_per_unit=scale)
        try:
            image = render_strokes(strokes, scale=scale, width_px=rng.uniform(*cfg.width_range))
        except InvalidInputError:
            continue
        image.save(shard_dir / f"{i:04d}.png")
        records.append({"image": f"{shard_dir.name}/{i:04d}.png", "tokens": tokens, "source": "crohme_layout"})
    write_part(shard_dir, records)
    return len(records)


def _inks(archive: Path) -> Iterator[Ink]:
    for members in inkml_shards(archive, 1000):
        for _, data in members:
            try:
                yield parse_inkml(data)
            except InvalidInputError:
                continue


def render_layout_corpus(cfg: LayoutRenderConfig) -> Path:
    """Write the formulas in the training ink's hands into cfg.out_dir (resumable); returns the merged manifest."""
    formulas = crohme_formulas(cfg)
    shards = [formulas[i: i + cfg.shard_size] for i in range(0, len(formulas), cfg.shard_size)]
    todo = [i for i in range(len(shards)) if not (cfg.out_dir / f"shard{i:04d}" / "manifest.jsonl").exists()]
    logger.info("%d formulas in %d shards, %d to render", len(formulas), len(shards), len(todo))
    bank = glyph_bank(list(_inks(cfg.inkml_tar))) if todo else {}
    for n, index in enumerate(todo, start=1):
        count = _render_shard(index, shards[index], bank, cfg)
        logger.info("layout shard %d/%d: %d images", n, len(todo), count)
    return merge_parts(cfg.out_dir, (f"shard{index:04d}" for index in range(len(shards))))
