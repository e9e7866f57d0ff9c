"""A page, start to end: find the formulas, read the text around them and the formulas, put them in order.

    >>> from mathlens import read_page
    >>> for page in read_page("paper.pdf", pages="1-2"):
    ...     print(page.markdown)

Text comes from a PDF's text layer where the page has one, else from OCR with the formulas
painted out; formulas are always read from pixels (text layers garble math), in one batch per
page, with the page's own decoding settings (one view, a narrow beam: a page holds dozens).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from PIL import Image

from mathlens.config import DecodeConfig
from mathlens.errors import MathlensError
from mathlens.pages.detect import FormulaDetector
from mathlens.pages.types import Block, Box, Detection, PageResult, TextLine, Word

FORMULA_KINDS = {"inline": "inline_formula", "display": "display_formula"}
REGION_KINDS = {"figure": "figure", "table": "table"}


@dataclass(frozen=True)
class PageConfig:
    """How pages are read. `decode` is the formula search: one view and greedy by default, for speed."""

    dpi: float = 150  # a PDF page's rendering resolution
    max_pages: int = 200
    text: str = "auto"  # "auto": a PDF's text layer where it has one, else OCR; "ocr": always OCR
    decode: DecodeConfig = DecodeConfig(beam_size=1, views=False)
    margin: float = 2.0  # pixels added around a formula's box before it is read
    num_threads: int = 2


class PageReader:
    """Reads pages and PDFs into blocks and Markdown; models load on first use and are kept."""

    def __init__(self, config: PageConfig = PageConfig(), *, recognizer=None, detector: FormulaDetector | None = None,
                 text_reader=None) -> None:
        self.config = config
        self._recognizer, self._detector, self._text_reader = recognizer, detector, text_reader

    @cached_property
    def recognizer(self):
        if self._recognizer is not None:
            return self._recognizer
        from mathlens.api import Recognizer
        # Formula crops come in every size: without the arena a page's memory stays flat.
        return Recognizer(decode=self.config.decode, num_threads=self.config.num_threads, memory_arena=False)

    @cached_property
    def detector(self) -> FormulaDetector:
        return self._detector or FormulaDetector(num_threads=self.config.num_threads)

    @cached_property
    def text_reader(self):
        if self._text_reader is not None:
            return self._text_reader
        from mathlens.pages.text import TextReader
        return TextReader(num_threads=self.config.num_threads)

    def read(self, source: str | Path | bytes, *, pages: str | None = None, name: str | None = None) -> Iterator[PageResult]:
        """Every selected page of an image or PDF, in order; a page that fails carries its error.

        Raises InvalidInputError when the input as a whole cannot be opened (not an image or PDF,
        corrupt, encrypted, too many pages).
        """
        from mathlens.pages.document import PageError, iter_pages

        label = name or (str(source) if not isinstance(source, bytes) else "<bytes>")
        for page in iter_pages(source, pages=pages, dpi=self.config.dpi, max_pages=self.config.max_pages, name=label):
            if isinstance(page, PageError):
                yield PageResult(page.path, page.page, error=page.error)
                continue
            try:
                yield self.read_image(page.image, path=page.path, page=page.page, dpi=page.dpi, words=page.words)
            except MathlensError as err:
                yield PageResult(page.path, page.page, error=str(err))

    def read_image(self, image: Image.Image, *, path: str = "<image>", page: int = 1, dpi: float | None = None,
                   words: Sequence[Word] | None = None) -> PageResult:
        """One page picture (with its text layer's words, if any) -> its blocks and Markdown."""
        from mathlens.pages.order import assemble

        image = image.convert("RGB")
        timings: dict[str, float] = {}
        start = time.perf_counter()
        found = self.detector.detect(image)
        timings["detect"] = time.perf_counter() - start
        formulas = [d for d in found if d.kind in FORMULA_KINDS]
        regions = [Block(REGION_KINDS[d.kind], d.box, confidence=d.score) for d in found if d.kind in REGION_KINDS]

        start = time.perf_counter()
        masked = [d.box for d in formulas] + [r.box for r in regions if r.type == "figure"]
        if words is not None and self.config.text != "ocr":
            lines = lines_from_words([w for w in words if not _inside_any(w.box, masked)])
        else:
            lines = self.text_reader.read(image, mask=masked)
        timings["text"] = time.perf_counter() - start

        start = time.perf_counter()
        formula_blocks = self.read_formulas(image, formulas)
        timings["formulas"] = time.perf_counter() - start

        start = time.perf_counter()
        blocks, markdown = assemble(lines, formula_blocks, regions)
        blocks = with_inline_formulas(blocks, [b for b in formula_blocks if b.type == "inline_formula"])
        timings["order"] = time.perf_counter() - start
        return PageResult(path, page, image.width, image.height, dpi, blocks, markdown, timings=timings)

    def read_formulas(self, image: Image.Image, formulas: Sequence[Detection]) -> list[Block]:
        """The formula crops read in one batch; a crop the recognizer refuses is left out."""
        if not formulas:
            return []
        m = self.config.margin
        crops = [image.crop((max(0, round(d.box.x0 - m)), max(0, round(d.box.y0 - m)),
                             min(image.width, round(d.box.x1 + m)), min(image.height, round(d.box.y1 + m))))
                 for d in formulas]
        predictions = self.recognizer.recognize_batch(crops, errors="return")
        return [Block(FORMULA_KINDS[d.kind], d.box, latex=p.latex, confidence=p.confidence)
                for d, p in zip(formulas, predictions) if p.error is None and p.latex]


def with_inline_formulas(blocks: Sequence[Block], inline: Sequence[Block]) -> list[Block]:
    """The blocks with each inline formula listed after the paragraph that holds it (its text has it as `$…$`)."""
    out, left = [], list(inline)
    for block in blocks:
        out.append(block)
        if block.type != "text":
            continue
        inside = [f for f in left if _center_in(f.box, block.box)]
        out += sorted(inside, key=lambda f: (round(f.box.y0 / max(1.0, f.box.height)), f.box.x0))
        left = [f for f in left if f not in inside]
    return out + left


def _center_in(box: Box, region: Box) -> bool:
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    return region.x0 <= cx <= region.x1 and region.y0 <= cy <= region.y1


def _inside_any(box: Box, regions: Sequence[Box], share: float = 0.5) -> bool:
    """Whether at least `share` of the box lies in one of the regions."""
    return box.area > 0 and any(box.intersection(region) >= share * box.area for region in regions)


def lines_from_words(words: Sequence[Word]) -> list[TextLine]:
    """A text layer's words as lines: rows of words whose middles line up, cut where a wide gap (a gutter) falls."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.box.y0 + w.box.y1) / 2):
        middle = (word.box.y0 + word.box.y1) / 2
        if rows and rows[-1][0].box.y0 <= middle <= rows[-1][0].box.y1:
            rows[-1].append(word)
        else:
            rows.append([word])
    lines = []
    for row in rows:
        row.sort(key=lambda w: w.box.x0)
        height = max(w.box.height for w in row)
        start = 0
        for i in range(1, len(row) + 1):
            if i == len(row) or row[i].box.x0 - row[i - 1].box.x1 > 2 * height:
                lines.append(_line(row[start:i]))
                start = i
    return sorted(lines, key=lambda t: (t.box.y0, t.box.x0))


def _line(words: Sequence[Word]) -> TextLine:
    box = Box(min(w.box.x0 for w in words), min(w.box.y0 for w in words),
              max(w.box.x1 for w in words), max(w.box.y1 for w in words))
    return TextLine(" ".join(w.text for w in words), box, tuple(words))


def read_page(source: str | Path | bytes, *, pages: str | None = None, config: PageConfig = PageConfig()) -> list[PageResult]:
    """Every selected page of an image or PDF, read (a new PageReader each call: keep one for many files)."""
    return list(PageReader(config).read(source, pages=pages))
