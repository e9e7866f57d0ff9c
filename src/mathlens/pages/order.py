"""Reading order and Markdown for one page: text lines, formulas and layout regions in; blocks and Markdown out.

Pure geometry on boxes, no model. Words and inline formulas are placed as "atoms"; display
formulas, figures and tables as whole blocks. A recursive XY-cut finds the columns: a run of
horizontal strips that shares an empty vertical gutter (at least three rows high, so a chance
alignment of wide word spaces is no gutter) is cut into left and right, while a strip that
crosses the gutter (a title, a wide display formula, a centred page number) cuts the page
horizontally. Each leaf of the cut is one column piece: its atoms are grouped into visual lines
by vertical overlap and its lines into paragraphs.

Markdown conventions (the synthetic ground truth is written the same way):

* Paragraphs are separated by one blank line; the Markdown ends with one newline.
* The lines of a paragraph are joined with single spaces. A line whose last character is `-`
  followed by a line that starts with a lowercase letter is joined without the hyphen and
  without a space (`equa-` + `tion` -> `equation`).
* Within a line, words and inline formulas are sorted by x and joined with single spaces, except
  that no space goes before an atom that starts with closing punctuation (`,` `.` `;` `:` `)`
  `]`): `let $x$, then`. An inline formula is written `$latex$`.
* A display formula is a paragraph of its own, `$$latex$$`. An equation number to its right on
  the same line (a text word such as `(3)`, `(2.1)`, `(A.4)`), or alone at the right of the line
  just below a formula too wide for it, is taken out of the text and written as
  `$$latex \\tag{3}$$`.
* A paragraph of one line whose text height is at least 1.25 times the page's median line
  height is a heading, `## text`; the tallest such line on the page, if at least 1.6 times, is
  `# text` (one per page).
* A figure is the line `![figure]()`; a table is its text lines joined as one paragraph (no
  table structure). Text inside a figure region is dropped.

Paragraphs break where the vertical gap between lines exceeds 0.8 median line heights, where a
line is indented further than the one above, after a line ending short of the column's right
edge, and where the text height jumps (a heading above body text). A paragraph that runs off the
bottom of one column (last line full, no sentence end) continues at the top of the next.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mathlens.pages.types import Block, Box, TextLine, Word

PieceKind = Literal["word", "inline", "display", "figure", "table"]

# Thresholds, in median word heights (h): the page's body line height.
GUTTER = 0.8  # narrowest empty vertical stripe between columns (LaTeX's 10pt columnsep is ~0.9h)
CONFIRM = 2.5  # a gutter counts once the strips sharing it are this tall (about three rows)
EDGE = 3.0  # a column's lines end (or start, indented) within this of its gutter
TALL = 8.0  # a gap white over this height needs a column edge on one side only
LOOKAHEAD = 12  # strips looked at to confirm that columns start
MARGIN_GAP = 1.5  # a first/last single row standing this far apart is a header/footer
PARAGRAPH_GAP = 0.8
INDENT = 0.5  # a line starting this much right of the line above opens a paragraph
SHORT_LINE = 0.2  # a line ending this share of the column width (at least 3H) short ends its paragraph
HEIGHT_JUMP = 1.2  # a heading-sized line and one this much smaller are not one paragraph
HEADING = 1.25
TITLE = 1.6
# Where letters reach, in ems, to read a type size off ink-fitted boxes.
CAP_HEIGHT, DOT_HEIGHT, T_HEIGHT, X_HEIGHT, DESCENT, BRACKET_DESCENT = 0.7, 0.67, 0.62, 0.45, 0.21, 0.25
SHORT_LETTERS = frozenset("acemnorsuvwxzgpqy")
CLOSING = tuple(",.;:)]")
TRAILING_PUNCTUATION = re.compile(r"(.*[^\\\s])\s*([,.;:])", re.S)  # not `\;` or `\,`: spacing commands
SENTENCE_END = tuple(".!?:")
LIST_MARKER = re.compile(r"\d{1,2}[.)]|\(?[a-z]\)|\(?[ivx]{1,4}\)|[\u2022\u25e6\u2023\u2219\u00b7*\u2013\u2014-]")
EQUATION_NUMBER = re.compile(r"\(((?:[A-Z]\.?)?\d+(?:\.\d+)*[a-z]?)\)")


@dataclass
class _Piece:
    """One thing to place: a word or an inline formula (atoms of lines), or a block-level element."""

    kind: PieceKind
    box: Box
    text: str = ""  # a word's text, an inline formula as `$latex$`
    confidence: float = 1.0
    block: Block | None = None  # display formula, figure or table, as it will be emitted
    tag: str | None = None  # a display formula's equation number
    size: float | None = None  # a word's type size in pixels, as far as its box tells (see _type_size)

    @property
    def is_atom(self) -> bool:
        return self.kind in ("word", "inline")


@dataclass
class _Line:
    """A visual line of one column: its atoms left to right."""

    atoms: list[_Piece]
    box: Box
    text_height: float | None  # the median type size of its words; None for formulas only
    text: str


_Element = list[_Line] | _Piece  # a text paragraph, or a block-level piece


def assemble(lines: Sequence[TextLine], formulas: Sequence[Block],
             regions: Sequence[Block] = ()) -> tuple[list[Block], str]:
    """Blocks in reading order (one text block per paragraph) and the page's Markdown."""
    pieces = _pieces(lines, formulas, regions)
    if not pieces:
        return [], ""
    h = _unit_height(pieces)
    leaves = [_leaf_elements(leaf) for leaf in _xy_cut(pieces, h, top=True)]
    line_h = _body_line_height(leaves, h)
    elements = _join_columns([_paragraphs(leaf, line_h) for leaf in leaves], line_h)
    return _emit(elements, line_h)


def _pieces(lines: Sequence[TextLine], formulas: Sequence[Block], regions: Sequence[Block]) -> list[_Piece]:
    """Everything to place: atoms outside figures and tables, display formulas with their numbers, regions."""
    figures = [r for r in regions if r.type == "figure"]
    tables = [r for r in regions if r.type == "table"]
    atoms = _atoms(lines, formulas, figures)
    displays = [_Piece("display", f.box, confidence=f.confidence,
                       block=Block("display_formula", f.box, latex=f.latex or "", confidence=f.confidence))
                for f in formulas if f.type == "display_formula" and not _inside_any(f.box, figures)]
    atoms = _take_equation_numbers(displays, atoms)
    atoms, table_pieces = _fill_tables(atoms, tables)
    return atoms + displays + table_pieces + [
        _Piece("figure", f.box, confidence=f.confidence, block=Block("figure", f.box, confidence=f.confidence))
        for f in figures]


# --- atoms -------------------------------------------------------------------------------------

def _center_inside(box: Box, region: Box) -> bool:
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    return region.x0 <= cx <= region.x1 and region.y0 <= cy <= region.y1


def _inside_any(box: Box, regions: Sequence[Block]) -> bool:
    return any(_center_inside(box, r.box) for r in regions)


def _mostly_covered(box: Box, others: Sequence[Box]) -> bool:
    """Half a word under a formula box: OCR read the formula as text too, so the formula wins."""
    return box.area > 0 and any(box.intersection(o) >= 0.5 * box.area for o in others)


def _loose_boxes(lines: Sequence[TextLine]) -> bool:
    """Whether word boxes are as tall as the type (OCR lines cut into words), not fitted to the ink
    (a PDF text layer), judged on lines of three words or more whose heights all agree."""
    votes = [max(w.box.height for w in line.words) - min(w.box.height for w in line.words)
             <= 0.05 * max(w.box.height for w in line.words) for line in lines if len(line.words) >= 3]
    return not votes or 2 * sum(votes) >= len(votes)


def _type_size(word: Word, loose: bool) -> float | None:
    """The type size a word's box shows: its height for loose boxes; for ink-fitted boxes its height
    over the span its letters reach (`a` from the baseline to the x-height, `Tg` from below the
    baseline to the cap height), so a heading of short letters still reads as large."""
    if loose:
        return word.box.height
    letters = [c for c in word.text if c.isascii() and (c.isalnum() or c in "()[]{}?!/")]
    if not letters:
        return None
    top = max(X_HEIGHT if c in SHORT_LETTERS else DOT_HEIGHT if c in "ij" else T_HEIGHT if c == "t" else CAP_HEIGHT
              for c in letters)
    bottom = max(DESCENT if c in "gjpqy" else BRACKET_DESCENT if c in "()[]{}" else 0.0 for c in letters)
    return word.box.height / (top + bottom)


def _atoms(lines: Sequence[TextLine], formulas: Sequence[Block], figures: Sequence[Block]) -> list[_Piece]:
    """Words and inline formulas outside figures; a line without word boxes counts as one word."""
    words = [w for line in lines for w in (line.words or (Word(line.text, line.box, line.confidence),))]
    formula_boxes = [f.box for f in formulas]
    loose = _loose_boxes(lines)
    atoms = [_Piece("word", w.box, w.text.strip(), w.confidence, size=_type_size(w, loose)) for w in words
             if w.text.strip() and not _inside_any(w.box, figures) and not _mostly_covered(w.box, formula_boxes)]
    atoms += [_Piece("inline", f.box, inline_markdown(f.latex or ""), f.confidence) for f in formulas
              if f.type == "inline_formula" and not _inside_any(f.box, figures)]
    return atoms


def inline_markdown(latex: str) -> str:
    """`$latex$`, with the sentence's punctuation that the formula's box took in put after it:
    `$d=\\gcd(a,b)$,` (a box fitted to the ink holds the comma that touches it)."""
    match = TRAILING_PUNCTUATION.fullmatch(latex)
    return f"${match.group(1)}${match.group(2)}" if match else f"${latex}$"


def _number_run(words: list[_Piece]) -> tuple[str, int] | None:
    """The equation number the first one to three words spell, `(3)` or `(` `2.1` `)`, and how many."""
    for k in range(1, min(3, len(words)) + 1):
        if k > 1 and words[k - 1].box.x0 - words[k - 2].box.x1 > words[k - 1].box.height:
            return None
        match = EQUATION_NUMBER.fullmatch("".join(w.text for w in words[:k]))
        if match:
            return match.group(1), k
    return None


def _beside(d: _Piece, atoms: Sequence[_Piece]) -> list[_Piece]:
    """Words right of a display formula, on its line."""
    return sorted((a for a in atoms if a.kind == "word" and (a.box.x0 + a.box.x1) / 2 > d.box.x1
                   and d.box.y0 <= (a.box.y0 + a.box.y1) / 2 <= d.box.y1), key=lambda a: a.box.x0)


def _below(d: _Piece, atoms: Sequence[_Piece]) -> list[_Piece]:
    """The words alone on the line under a formula too wide for its number, right of its middle."""
    row = [a for a in atoms if d.box.y1 < (a.box.y0 + a.box.y1) / 2 <= d.box.y1 + 1.5 * a.box.height
           and a.box.x1 > d.box.x0 and a.box.x0 < d.box.x1 + EDGE * a.box.height]
    if not row or min(a.box.x0 for a in row) < (d.box.x0 + d.box.x1) / 2 or any(a.kind != "word" for a in row):
        return []
    return sorted(row, key=lambda a: a.box.x0)


def _take_equation_numbers(displays: list[_Piece], atoms: list[_Piece]) -> list[_Piece]:
    """Move `(3)` right of a display formula (same line), or alone on the line below it, into its tag."""
    taken: set[int] = set()
    for d in displays:
        left = [a for a in atoms if id(a) not in taken]
        for words in (_beside(d, left), _below(d, left)):
            run = _number_run(words)
            if run:
                d.tag = run[0]
                taken.update(id(a) for a in words[:run[1]])
                break
    return [a for a in atoms if id(a) not in taken]


def _fill_tables(atoms: list[_Piece], tables: Sequence[Block]) -> tuple[list[_Piece], list[_Piece]]:
    """A table keeps its text, as its lines in one paragraph; its atoms leave the page flow."""
    pieces = []
    for t in tables:
        inside = [a for a in atoms if _center_inside(a.box, t.box)]
        atoms = [a for a in atoms if not _center_inside(a.box, t.box)]
        text = _join_lines(_lines(inside))
        pieces.append(_Piece("table", t.box, confidence=t.confidence,
                             block=Block("table", t.box, text=text, confidence=t.confidence)))
    return atoms, pieces


def _unit_height(pieces: Sequence[_Piece]) -> float:
    """The median word height: the page's unit of length for gutters and strips."""
    for kinds in (("word",), ("inline",), ("display", "figure", "table")):
        heights = [p.box.height for p in pieces if p.kind in kinds and p.box.height > 0]
        if heights:
            return statistics.median(heights)
    return 1.0


# --- XY-cut ------------------------------------------------------------------------------------

def _x_gaps(items: Sequence[_Piece], min_width: float) -> list[tuple[float, float]]:
    """Empty vertical stripes at least min_width wide with something on both sides."""
    spans = sorted((p.box.x0, p.box.x1) for p in items)
    gaps, end = [], spans[0][1] if spans else 0.0
    for x0, x1 in spans[1:]:
        if x0 - end >= min_width:
            gaps.append((end, x0))
        end = max(end, x1)
    return gaps


def _y_strips(items: Sequence[_Piece]) -> list[list[_Piece]]:
    """Horizontal strips split at empty rows; boxes are trimmed by a fifth so touching lines stay apart."""
    def core(p: _Piece) -> tuple[float, float]:
        return p.box.y0 + 0.2 * p.box.height, p.box.y1 - 0.2 * p.box.height

    strips: list[list[_Piece]] = []
    end = float("-inf")
    for p in sorted(items, key=lambda p: core(p)[0]):
        y0, y1 = core(p)
        if not strips or y0 > end:
            strips.append([])
        strips[-1].append(p)
        end = max(end, y1)
    return strips


def _extent_y(items: Sequence[_Piece]) -> float:
    if not items:
        return 0.0
    return max(p.box.y1 for p in items) - min(p.box.y0 for p in items)


def _rows_apart(items: Sequence[_Piece], h: float) -> bool:
    """At least two rows: centres a line height apart (one tall title or figure is a single row)."""
    centers = [(p.box.y0 + p.box.y1) / 2 for p in items]
    return bool(centers) and max(centers) - min(centers) >= h


def _gutters(items: Sequence[_Piece], h: float) -> list[tuple[float, float]]:
    """Gaps that separate columns: about three rows tall, and on each side lines that end (left) or start
    (right) at the gap in at least two rows.

    A wide word space, a line's last word, or the white between a narrow formula and an off-centre
    title has a single row at its edge and is no gutter. Display formulas are centred, so they
    mark no column edge. A gap kept white over many rows needs such edges on one side only (a column
    of floats and formulas beside one of text).
    """
    extent = _extent_y(items)
    if extent < CONFIRM * h:
        return []
    tall, out = extent >= TALL * h, []
    for a, b in _x_gaps(items, GUTTER * h):
        left_edge = _rows_apart([p for p in items if a - EDGE * h <= p.box.x1 <= a and p.kind != "display"], h)
        right_edge = _rows_apart([p for p in items if b <= p.box.x0 <= b + EDGE * h and p.kind != "display"], h)
        if tall and (left_edge or right_edge):  # one text column beside one of floats and formulas
            left_edge = left_edge or _rows_apart([p for p in items if p.box.x1 <= a], h)
            right_edge = right_edge or _rows_apart([p for p in items if p.box.x0 >= b], h)
        if left_edge and right_edge and not _word_space(items, a, b):
            out.append((a, b))
    return out


def _word_space(items: Sequence[_Piece], a: float, b: float) -> bool:
    """Whether the gap (a, b) is only a space between two words of one large line (a title)."""
    left = [p for p in items if a - 0.5 <= p.box.x1 <= a and p.kind == "word"]
    right = [p for p in items if b <= p.box.x0 <= b + 0.5 and p.kind == "word"]
    return any(min(p.box.y1, q.box.y1) > max(p.box.y0, q.box.y0) and b - a < GUTTER * max(p.box.height, q.box.height)
               for p in left for q in right)


def _confirmed(items: Sequence[_Piece], h: float) -> bool:
    return bool(_gutters(items, h))


def _columns_start(strips: Sequence[list[_Piece]], i: int, h: float) -> list[tuple[float, float]]:
    """The gutters that strips from i on soon confirm, if any (a first row may sit in one column only)."""
    run: list[_Piece] = []
    for strip in strips[i:i + LOOKAHEAD]:
        run += strip
        gutters = _gutters(run, h)
        if gutters:
            return gutters
    return []


def _overfull(p: _Piece, a: float) -> bool:
    """A display formula too wide for its column: TeX sets it from the left margin, so it runs on
    over the gutter (at a) with most of it still in the column on the left."""
    return p.kind == "display" and (p.box.x0 + p.box.x1) / 2 < a


def _narrowed(gutters: Sequence[tuple[float, float]], strip: Sequence[_Piece],
              min_width: float) -> list[tuple[float, float]] | None:
    """The gutters with the strip's items added on their sides, or None where the strip crosses one.

    The first rows may leave a gutter wider than it is (short headings, centred formulas), so it
    narrows as lines come in: words reaching into it from the left edge, one word space after the
    other, belong to the left column; from the right edge, to the right; what is left goes to the
    nearer half. A display formula overfull from the left column crosses no gutter.
    """
    out = []
    for a, b in gutters:
        inside = sorted((p for p in strip if p.box.x1 > a and p.box.x0 < b and not _overfull(p, a)),
                        key=lambda p: p.box.x0)
        if any(p.box.x0 <= a and p.box.x1 >= b for p in inside):
            return None
        while inside and inside[0].box.x0 - a < min_width:
            a = max(a, inside.pop(0).box.x1)
        for p in sorted(inside, key=lambda p: -p.box.x1):
            if b - p.box.x1 < min_width or (p.box.x0 + p.box.x1) / 2 >= (a + b) / 2:
                b = min(b, p.box.x0)
            else:
                a = max(a, p.box.x1)
        if b - a < min_width:
            return None
        out.append((a, b))
    return out


def _gap(above: list[_Piece], below: list[_Piece]) -> float:
    return min(p.box.y0 for p in below) - max(p.box.y1 for p in above)


def _nearer_above(strips: Sequence[list[_Piece]], i: int, h: float) -> bool:
    """A one-sided strip where columns start (an abstract's short last line) stays with the closer neighbour."""
    if i + 1 >= len(strips):
        return False
    below = _gap(strips[i], strips[i + 1])
    return (below > PARAGRAPH_GAP * h and _gap(strips[i - 1], strips[i]) < below
            and bool(_columns_start(strips, i + 1, h)))


def _first_of_columns(strips: Sequence[list[_Piece]], start: int, i: int,
                      gutters: Sequence[tuple[float, float]], h: float) -> int:
    """Where columns confirmed at strip i really begin: one-sided strips just above, nearer to the
    columns than to what is above them, belong to the columns (a column's first lines before the
    other column has confirmed the gutter)."""
    while i - 1 > start and _narrowed(gutters, strips[i - 1], GUTTER * h) \
            and _gap(strips[i - 2], strips[i - 1]) >= _gap(strips[i - 1], strips[i]):
        i -= 1
    return i


def _group_strips(strips: list[list[_Piece]], h: float) -> list[tuple[list[_Piece], list[tuple[float, float]]]]:
    """Strips grouped into runs of columns (with their gutters) and runs of full-width rows (no gutters).

    A column run starts where gutters are confirmed looking ahead, and lasts until a strip crosses
    one (a wide formula, a centred page number); wide word spaces in a single row never start one.
    """
    bounds: list[tuple[int, int, list[tuple[float, float]]]] = []  # (first strip, end, gutters)
    start, gutters = 0, _columns_start(strips, 0, h)
    for i in range(1, len(strips)):
        narrowed = _narrowed(gutters, strips[i], GUTTER * h) if gutters else None
        if narrowed:
            gutters = narrowed
            continue
        starting = _columns_start(strips, i, h)
        if gutters:
            bounds.append((start, i, gutters))
            start, gutters = i, starting
        elif starting and not _nearer_above(strips, i, h):
            first = _first_of_columns(strips, start, i, starting, h)
            bounds.append((start, first, []))
            start, gutters = first, starting
    bounds.append((start, len(strips), gutters))
    return [([p for strip in strips[a:b] for p in strip], g) for a, b, g in bounds]


def _split_columns(items: list[_Piece], gutters: Sequence[tuple[float, float]]) -> list[list[_Piece]]:
    """Items left to right between the gutters' middles (by their own centres)."""
    cuts = sorted((a + b) / 2 for a, b in gutters)
    columns: list[list[_Piece]] = [[] for _ in range(len(cuts) + 1)]
    for p in items:
        center = (p.box.x0 + p.box.x1) / 2
        columns[sum(center > c for c in cuts)].append(p)
    return [c for c in columns if c]


def _margins(strips: list[list[_Piece]], h: float) -> tuple[list[list[_Piece]], list[list[_Piece]], list[list[_Piece]]]:
    """A single first or last row standing apart (running header, page number) is read alone, first or last."""
    def alone(strip: list[_Piece], neighbour: list[_Piece], below: bool) -> bool:
        gap = (min(p.box.y0 for p in neighbour) - max(p.box.y1 for p in strip) if below
               else min(p.box.y0 for p in strip) - max(p.box.y1 for p in neighbour))
        return _extent_y(strip) <= 1.5 * h and gap >= MARGIN_GAP * h

    head = strips[:1] if len(strips) > 2 and alone(strips[0], strips[1], below=True) else []
    foot = strips[-1:] if len(strips) > 2 and alone(strips[-1], strips[-2], below=False) else []
    return head, strips[len(head):len(strips) - len(foot)], foot


def _xy_cut(items: list[_Piece], h: float, top: bool = False) -> list[list[_Piece]]:
    """Leaves (column pieces) in reading order: left column before right, top band before bottom."""
    strips = _y_strips(items)
    head, body, foot = _margins(strips, h) if top else ([], strips, [])
    if head or foot:
        middle = [p for s in body for p in s]
        return head + (_xy_cut(middle, h) if middle else []) + foot
    if _confirmed(items, h):
        widest = max(_gutters(items, h), key=lambda g: g[1] - g[0])
        return [leaf for column in _split_columns(items, [widest]) for leaf in _xy_cut(column, h)]
    if len(strips) == 1:
        return [items]
    groups = _group_strips(strips, h)
    if len(groups) == 1 and not groups[0][1]:
        return [items]
    leaves = []
    for group, gutters in groups:
        if not gutters:
            leaves.append(group)
        elif len(groups) == 1:  # columns sharing gutters, but an item reaches into one: cut by centres
            leaves += [leaf for column in _split_columns(group, gutters) for leaf in _xy_cut(column, h)]
        else:
            leaves += _xy_cut(group, h)
    return leaves


# --- lines and paragraphs ----------------------------------------------------------------------

def _band(row: list[_Piece]) -> tuple[float, float]:
    """A row's vertical band: the median word box, so a tall formula does not swallow the next line."""
    words = [p for p in row if p.kind == "word"] or row
    return statistics.median(p.box.y0 for p in words), statistics.median(p.box.y1 for p in words)


def _best_row(p: _Piece, rows: list[list[_Piece]]) -> list[_Piece] | None:
    best, best_overlap = None, 0.0
    for row in rows:
        b0, b1 = _band(row)
        overlap = min(p.box.y1, b1) - max(p.box.y0, b0)
        if overlap >= 0.5 * min(p.box.height, b1 - b0) and overlap > best_overlap:
            best, best_overlap = row, overlap
    return best


def _lines(atoms: Sequence[_Piece]) -> list[_Line]:
    """Visual lines: words grouped by vertical overlap first, then formulas join the line they overlap most."""
    rows: list[list[_Piece]] = []
    by_center = sorted(atoms, key=lambda p: (p.kind != "word", p.box.y0 + p.box.y1))
    for p in by_center:
        row = _best_row(p, rows[-3:] if p.kind == "word" else rows)
        if row is None:
            rows.append([p])
        else:
            row.append(p)
    return sorted((_make_line(r) for r in rows), key=lambda line: line.box.y0)


def _union(boxes: Sequence[Box]) -> Box:
    return Box(min(b.x0 for b in boxes), min(b.y0 for b in boxes), max(b.x1 for b in boxes), max(b.y1 for b in boxes))


def _make_line(row: list[_Piece]) -> _Line:
    atoms = sorted(row, key=lambda p: p.box.x0)
    words = [p for p in atoms if p.kind == "word"]
    text = ""
    for a in atoms:
        text += (" " if text and not a.text.startswith(CLOSING) else "") + a.text
    sizes = [w.size for w in words if w.size]
    return _Line(atoms, _union([a.box for a in atoms]), statistics.median(sizes) if sizes else None, text)


def _join_lines(lines: Sequence[_Line]) -> str:
    """Lines joined by spaces; `equa-` + `tion` becomes `equation`."""
    text = ""
    for line in lines:
        if text.endswith("-") and line.text[:1].islower():
            text = text[:-1] + line.text
        else:
            text += (" " if text else "") + line.text
    return text


def _leaf_elements(leaf: list[_Piece]) -> list[_Line | _Piece]:
    """A column piece's lines and blocks, top to bottom."""
    lines: list[_Line | _Piece] = list(_lines([p for p in leaf if p.is_atom]))
    return sorted(lines + [p for p in leaf if not p.is_atom], key=lambda e: (e.box.y0, e.box.x0))


def _body_line_height(leaves: list[list[_Line | _Piece]], h: float) -> float:
    """The median text height of the page's lines, each weighted by its words, so that a few large
    headings on a short page do not move it."""
    heights = [e.text_height for leaf in leaves for e in leaf if isinstance(e, _Line) and e.text_height
               for a in e.atoms if a.kind == "word"]
    return statistics.median(heights) if heights else h


def _column(lines: Sequence[_Line]) -> tuple[float, float]:
    return min(line.box.x0 for line in lines), max(line.box.x1 for line in lines)


def _is_short(line: _Line, column: tuple[float, float], line_h: float) -> bool:
    return line.box.x1 < column[1] - max(3 * line_h, SHORT_LINE * (column[1] - column[0]))


def _height_jump(a: _Line, b: _Line, line_h: float) -> bool:
    """A heading-sized line next to a clearly smaller one (not the small jitter of tight word boxes)."""
    if a.text_height is None or b.text_height is None:
        return False
    low, high = sorted((a.text_height, b.text_height))
    return high >= HEADING * line_h and high >= HEIGHT_JUMP * low


def _item_indent(line: _Line) -> float | None:
    """Where a list item's text starts (its later lines hang there), if the line opens one."""
    if len(line.atoms) > 1 and line.atoms[0].kind == "word" and LIST_MARKER.fullmatch(line.atoms[0].text):
        return line.atoms[1].box.x0
    return None


def _centred_under(prev: _Line, cur: _Line, line_h: float) -> bool:
    """A shorter line centred under the one above (a caption's, a centred block's last line)."""
    left, right = cur.box.x0 - prev.box.x0, prev.box.x1 - cur.box.x1
    return left > 0 and right > 0 and abs(left - right) < INDENT * line_h


def _breaks(first: _Line, prev: _Line, cur: _Line, column: tuple[float, float], line_h: float) -> bool:
    """Whether cur opens a new paragraph after prev (the paragraph opened with `first`) in one column."""
    hang = _item_indent(first)
    if hang is not None and abs(cur.box.x0 - hang) < INDENT * line_h and _item_indent(cur) is None:
        indented = False  # a list item's text runs on under its first word
    elif hang is not None:
        return True  # the next item, or text back at the margin
    else:
        indented = cur.box.x0 - prev.box.x0 >= INDENT * line_h and not _centred_under(prev, cur, line_h)
    return (cur.box.y0 - prev.box.y1 > PARAGRAPH_GAP * line_h
            or indented
            or _item_indent(cur) is not None
            or (_is_short(prev, column, line_h) and not _centred_under(prev, cur, line_h))
            or _height_jump(prev, cur, line_h))


def _paragraphs(leaf: list[_Line | _Piece], line_h: float) -> list[_Element]:
    """Lines into paragraphs; blocks stand alone."""
    text_lines = [e for e in leaf if isinstance(e, _Line)]
    column = _column(text_lines) if text_lines else (0.0, 0.0)
    out: list[_Element] = []
    for e in leaf:
        prev = out[-1] if out else None
        if isinstance(e, _Line) and isinstance(prev, list) and not _breaks(prev[0], prev[-1], e, column, line_h):
            prev.append(e)
        else:
            out.append([e] if isinstance(e, _Line) else e)
    return out


def _continues(prev: list[_Line], prev_leaf: list[_Element], cur: list[_Line], cur_leaf: list[_Element],
               line_h: float) -> bool:
    """A paragraph cut by a column break: the next column starts higher, the last line is full, no sentence end."""
    prev_column = _column([line for e in prev_leaf if isinstance(e, list) for line in e])
    cur_column = _column([line for e in cur_leaf if isinstance(e, list) for line in e])
    return (cur[0].box.y0 < prev[-1].box.y0
            and not _is_short(prev[-1], prev_column, line_h)
            and cur[0].box.x0 - cur_column[0] < INDENT * line_h
            and not prev[-1].text.endswith(SENTENCE_END)
            and not _height_jump(prev[-1], cur[0], line_h))


def _join_columns(leaves: list[list[_Element]], line_h: float) -> list[_Element]:
    """The leaves' paragraphs in order, a paragraph cut by a column break made whole again."""
    out: list[_Element] = []
    prev_leaf: list[_Element] = []
    for leaf in leaves:
        if not leaf:
            continue
        last, first = (out[-1] if out else None), leaf[0]
        if isinstance(last, list) and isinstance(first, list) and _continues(last, prev_leaf, first, leaf, line_h):
            last.extend(first)
            out.extend(leaf[1:])
        else:
            out.extend(leaf)
        prev_leaf = leaf
    return out


# --- output ------------------------------------------------------------------------------------

def _heading_levels(elements: list[_Element], line_h: float) -> dict[int, int]:
    """Element index -> 1 or 2: single-line paragraphs set clearly larger than the body."""
    sizes = {i: e[0].text_height for i, e in enumerate(elements)
             if isinstance(e, list) and len(e) == 1 and e[0].text_height and e[0].text_height >= HEADING * line_h}
    levels = {i: 2 for i in sizes}
    if sizes:
        top = max(sizes, key=lambda i: sizes[i])
        if sizes[top] >= TITLE * line_h:
            levels[top] = 1
    return levels


def _emit(elements: list[_Element], line_h: float) -> tuple[list[Block], str]:
    levels = _heading_levels(elements, line_h)
    blocks: list[Block] = []
    parts: list[str] = []
    for i, e in enumerate(elements):
        if isinstance(e, list):
            atoms = [a for line in e for a in line.atoms]
            text = _join_lines(e)
            blocks.append(Block("text", _union([a.box for a in atoms]), text=text,
                                confidence=statistics.fmean(a.confidence for a in atoms)))
            parts.append("#" * levels[i] + " " + text if i in levels else text)
            continue
        if e.block is None:  # block-level pieces always carry one
            continue
        blocks.append(e.block)
        if e.kind == "display":
            tag = f" \\tag{{{e.tag}}}" if e.tag else ""
            parts.append(f"$${e.block.latex}{tag}$$")
        elif e.kind == "figure":
            parts.append("![figure]()")
        elif e.block.text:
            parts.append(e.block.text)
    return blocks, "\n\n".join(parts) + "\n" if parts else ""


__all__ = ["assemble"]
