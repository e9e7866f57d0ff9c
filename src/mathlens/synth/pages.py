"""Synthetic pages typeset by TeX: the formula detector's training data and the page reader's validation set.

Each page is one segment of a pdfLaTeX document: a title, headings, paragraphs with inline
formulas from the corpus, numbered and unnumbered display formulas (aligned, matrices), lists,
figure and table blocks, a page number; one column or two (`multicols`). Every formula, figure
and table is set in a box whose size TeX knows and whose position `\\pdfsavepos` records at
shipout, so the boxes are exact. The Markdown the page should read as is written beside it,
in the conventions of `mathlens.pages.order`. A segment that TeX broke, or that ran over one
physical page, is left out.
"""

from __future__ import annotations

import json
import logging
import random
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from mathlens.synth.corpus import CorpusEntry, read_corpus
from mathlens.synth.render import broken_pages

logger = logging.getLogger(__name__)

PAGE_FONTS = {  # pdfLaTeX font setups: \pdfsavepos needs pdfTeX
    "cm": "", "lmodern": "\\usepackage{lmodern}", "times": "\\usepackage{mathptmx}",
    "txfonts": "\\usepackage{txfonts}", "palatino": "\\usepackage{mathpazo}", "pxfonts": "\\usepackage{pxfonts}",
    "sans": "\\usepackage{helvet}\\usepackage[helvet]{sfmath}\\renewcommand{\\familydefault}{\\sfdefault}",
}
PAPER_IN = (8.5, 11.0)  # letter: at 200 dpi the 1,700 x 2,200 page
SP_PER_IN = 72.27 * 65536

PREAMBLE = r"""\documentclass[{size}pt]{{article}}
\usepackage[letterpaper,margin={margin}in]{{geometry}}
\usepackage{{amsmath,amssymb,amsfonts,mathrsfs,bm,multicol}}
{fonts}
\setlength{{\columnsep}}{{{colsep}pt}}
\newcount\mlship\AddToHook{{shipout/after}}{{\global\advance\mlship 1}}
\newwrite\mlout\immediate\openout\mlout=\jobname.mlbox
\newsavebox\mlbox
\newcommand\mlrec[2]{{\edef\mltmp{{\write\mlout{{#1 #2 \the\wd\mlbox\space\the\ht\mlbox\space\the\dp\mlbox\space
  \noexpand\the\mlship\space\noexpand\the\pdflastxpos\space\noexpand\the\pdflastypos}}}}\pdfsavepos\mltmp\copy\mlbox}}
\newcommand\mlI[2]{{\sbox\mlbox{{$#2$}}\mlrec{{I}}{{#1}}}}
\newcommand\mlD[2]{{\sbox\mlbox{{$\displaystyle #2$}}\mlrec{{D}}{{#1}}}}
\newcommand\mlF[2]{{\leavevmode\sbox\mlbox{{#2}}\mlrec{{F}}{{#1}}}}
\newcommand\mlT[2]{{\leavevmode\sbox\mlbox{{#2}}\mlrec{{T}}{{#1}}}}
\newcommand\mlS[1]{{\sbox\mlbox{{}}\mlrec{{S}}{{#1}}}}
\begin{{document}}
"""
_ENVS = {"align": "aligned", "eqnarray": "aligned", "flalign": "aligned", "alignat": "aligned",
         "gather": "gathered", "multline": "gathered"}
_BAD_MATH = re.compile(r"\\(label|tag|nonumber|notag|intertext|displaybreak)\b|%")
_WORD = re.compile(r"^[A-Za-z][a-z]{0,13}$")


@dataclass(frozen=True)
class Formulas:
    """Corpus formulas to draw from: short ones inline, longer ones (and aligned rows) on display."""

    inline: list[str]
    display: list[str]


@dataclass
class Page:
    """What one synthetic page holds: its TeX body and the truth about it."""

    tex: list[str] = field(default_factory=list)
    markdown: list[str] = field(default_factory=list)
    items: dict[int, tuple[str, str]] = field(default_factory=dict)  # mark id -> (kind, latex or "")
    footer: str = ""

    def mark(self, kind: str, latex: str = "") -> int:
        key = len(self.items)
        self.items[key] = (kind, latex)
        return key


def display_latex(entry: CorpusEntry) -> str | None:
    """A display formula as one box: aligned and gathered for the multi-line environments."""
    if _BAD_MATH.search(entry.latex):
        return None
    if entry.kind != "multiline":
        return entry.latex
    if entry.render_env == "display":
        return entry.latex.replace("{split}", "{aligned}")
    env = _ENVS.get(entry.render_env.split("{")[0], "aligned")
    body = entry.latex.replace("&&", "&") if env == "aligned" else entry.latex.replace("&", "")
    return f"\\begin{{{env}}}{body}\\end{{{env}}}"


def load_formulas(corpus: Path, limit: int, seed: int) -> Formulas:
    """A random sample of the corpus's inline and display formulas (first `limit` of each, shuffled)."""
    inline, display = [], []
    for entry in read_corpus(corpus, min_tokens=1, max_tokens=90):
        if entry.kind == "inline" and len(entry.tokens) <= 18 and len(entry.latex) <= 60 \
                and "\\\\" not in entry.latex and "&" not in entry.latex and not _BAD_MATH.search(entry.latex):
            inline.append(entry.latex)
        elif entry.kind != "inline" and len(entry.tokens) >= 5:
            latex = display_latex(entry)
            if latex:
                display.append(latex)
    rng = random.Random(seed)
    rng.shuffle(inline)
    rng.shuffle(display)
    return Formulas(inline[:limit], display[:limit])


def load_words(docbank: Path) -> list[str]:
    """Plain words of the DocBank pages' text, as filler that has the look of a paper's prose."""
    words = []
    for txt in sorted(docbank.glob("pages/*.txt")):
        for line in txt.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 10 and parts[9] in ("paragraph", "abstract", "caption", "list") and _WORD.match(parts[0]):
                words.append(parts[0])
    return words


class PageWriter:
    """Draws one page's elements, TeX and Markdown side by side."""

    def __init__(self, rng: random.Random, words: list[str], formulas: Formulas, two_columns: bool) -> None:
        self.rng, self.words, self.formulas, self.two_columns = rng, words, formulas, two_columns
        self.equation = rng.randint(0, 30)

    def _words(self, n: int) -> list[str]:
        return [self.rng.choice(self.words).lower() for _ in range(n)]

    def sentence(self, page: Page, inline_rate: float) -> tuple[str, str]:
        """(TeX, Markdown) of a sentence with inline formulas among its words."""
        words = self._words(self.rng.randint(6, 18))
        words[0] = words[0].capitalize()
        tex, md = [], []
        for i, word in enumerate(words):
            tex.append(word)
            md.append(word)
            if i < len(words) - 1 and self.rng.random() < inline_rate:
                latex = self.rng.choice(self.formulas.inline)
                key = page.mark("inline", latex)
                punct = self.rng.choice(["", "", "", ",", ";"]) if i < len(words) - 2 else ""
                tex.append(f"\\mlI{{{key}}}{{{latex}}}{punct}")
                md.append(f"${latex}${punct}")
        end = self.rng.choice([".", ".", ".", ":", "?"])
        return " ".join(tex) + end, " ".join(md) + end

    def paragraph(self, page: Page, sentences: int) -> None:
        rate = self.rng.choice([0.0, 0.04, 0.08, 0.15])
        parts = [self.sentence(page, rate) for _ in range(sentences)]
        page.tex.append(("\\noindent " if self.rng.random() < 0.3 else "") + " ".join(t for t, _ in parts) + "\n")
        page.markdown.append(" ".join(m for _, m in parts))

    def display(self, page: Page) -> None:
        latex = self.rng.choice(self.formulas.display)
        key = page.mark("display", latex)
        if self.rng.random() < 0.6:
            self.equation += 1
            page.tex.append(f"\\begin{{equation}}\\mlD{{{key}}}{{{latex}}}\\end{{equation}}\n")
            page.markdown.append(f"$${latex} \\tag{{{self.equation}}}$$")
        else:
            page.tex.append(f"\\begin{{equation*}}\\mlD{{{key}}}{{{latex}}}\\end{{equation*}}\n")
            page.markdown.append(f"$${latex}$$")

    def heading(self, page: Page, number: int) -> None:
        title = " ".join(self._words(self.rng.randint(1, 4))).capitalize()
        page.tex.append(f"\\section*{{{number} {title}}}\n")
        page.markdown.append(f"## {number} {title}")

    def items(self, page: Page) -> None:
        page.tex.append("\\begin{enumerate}\n")
        for i in range(self.rng.randint(2, 4)):
            tex, md = self.sentence(page, 0.1)
            page.tex.append(f"\\item {tex}\n")
            page.markdown.append(f"{i + 1}. {md}")
        page.tex.append("\\end{enumerate}\n")

    def figure(self, page: Page, number: int) -> None:
        width = self.rng.randint(90, 200 if self.two_columns else 320)
        height = self.rng.randint(60, 160)
        strokes = "".join(f"\\qbezier({self.rng.randint(0, width)},{self.rng.randint(0, height)})"
                          f"({self.rng.randint(0, width)},{self.rng.randint(0, height)})"
                          f"({self.rng.randint(0, width)},{self.rng.randint(0, height)})" for _ in range(4))
        picture = (f"\\setlength{{\\unitlength}}{{1pt}}\\begin{{picture}}({width},{height})"
                   f"\\put(0,0){{\\framebox({width},{height}){{}}}}{strokes}\\end{{picture}}")
        key = page.mark("figure")
        caption = " ".join(self._words(self.rng.randint(3, 12))).capitalize() + "."
        page.tex.append(f"\\begin{{center}}\\mlF{{{key}}}{{{picture}}}\\par\\smallskip "
                        f"{{\\small Figure {number}: {caption}}}\\end{{center}}\n")
        page.markdown += ["![figure]()", f"Figure {number}: {caption}"]

    def table(self, page: Page, number: int) -> None:
        cols, rows = self.rng.randint(2, 4), self.rng.randint(2, 5)
        cells = [[self.rng.choice(self.words).lower() if c == 0 else f"{self.rng.uniform(0, 100):.{self.rng.randint(0, 2)}f}"
                  for c in range(cols)] for _ in range(rows)]
        body = "\\hline " + " \\\\ ".join(" & ".join(row) for row in cells) + " \\\\ \\hline"
        key = page.mark("table")
        caption = " ".join(self._words(self.rng.randint(3, 10))).capitalize() + "."
        page.tex.append(f"\\begin{{center}}{{\\small Table {number}: {caption}}}\\par\\smallskip "
                        f"\\mlT{{{key}}}{{\\begin{{tabular}}{{l{'c' * (cols - 1)}}}{body}\\end{{tabular}}}}\\end{{center}}\n")
        page.markdown += [f"Table {number}: {caption}", " ".join(" ".join(row) for row in cells)]


def compose(rng: random.Random, words: list[str], formulas: Formulas, size: int) -> tuple[Page, bool]:
    """One page's elements; returns it and whether it is set in two columns."""
    two_columns = rng.random() < 0.4
    writer = PageWriter(rng, words, formulas, two_columns)
    page = Page()
    page.tex.append(f"\\setcounter{{equation}}{{{writer.equation}}}")
    # A page of text holds about this many sentences; the page is filled to a random share of it.
    budget = rng.uniform(0.4, 1.0) * (64 if size == 10 else 54 if size == 11 else 46) * (1.1 if two_columns else 1.0)
    if rng.random() < 0.3:
        title = " ".join(writer._words(rng.randint(3, 8))).title()
        page.tex.append(f"{{\\noindent\\LARGE\\bfseries {title}\\par}}\\bigskip\n")
        page.markdown.append(f"# {title}")
        budget -= 3
    if two_columns:
        page.tex.append("\\begin{multicols}{2}\n")
    section, figure, table = rng.randint(1, 6), rng.randint(1, 9), rng.randint(1, 5)
    while budget > 0:
        roll = rng.random()
        if roll < 0.12:
            writer.heading(page, section)
            section, budget = section + 1, budget - 2
        elif roll < 0.40:
            writer.display(page)
            budget -= 2.5
        elif roll < 0.47:
            writer.items(page)
            budget -= 4
        elif roll < 0.52:
            writer.figure(page, figure)
            figure, budget = figure + 1, budget - 8
        elif roll < 0.56:
            writer.table(page, table)
            table, budget = table + 1, budget - 5
        else:
            n = rng.randint(2, 6)
            writer.paragraph(page, n)
            budget -= n
    if two_columns:
        page.tex.append("\\end{multicols}\n")
    return page, two_columns


@dataclass(frozen=True)
class Mark:
    kind: str
    key: int
    width: float  # sp
    height: float
    depth: float
    page: int  # PDF pages shipped out before this one
    x: float
    y: float


def read_marks(path: Path) -> list[Mark]:
    """The `\\mlrec` lines TeX wrote at shipout, in order."""
    marks = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) != 8:
            continue
        dims = [float(p.removesuffix("pt")) * 65536 for p in parts[2:5]]
        marks.append(Mark(parts[0], int(parts[1]), *dims, int(parts[5]), float(parts[6]), float(parts[7])))
    return marks


def box_pixels(mark: Mark, dpi: float) -> list[float]:
    """A mark's box in pixels from the top-left of a page rendered at `dpi`."""
    scale = dpi / SP_PER_IN
    top = PAPER_IN[1] * SP_PER_IN - (mark.y + mark.height)
    return [round(mark.x * scale, 1), round(top * scale, 1), round((mark.x + mark.width) * scale, 1),
            round((top + mark.height + mark.depth) * scale, 1)]


@dataclass(frozen=True)
class DocumentConfig:
    font: str
    size: int
    margin: float
    colsep: int


def typeset(pages: list[Page], cfg: DocumentConfig, folder: Path, first_numbers: list[int],
            footers: list[bool]) -> tuple[Path, list[Mark], set[int], int]:
    """One pdfLaTeX run over all pages; returns the PDF, the marks, broken segments and how many TeX saw."""
    body = []
    for i, (page, number, footer) in enumerate(zip(pages, first_numbers, footers)):
        style = "" if footer else "\\thispagestyle{empty}"
        body.append(f"\\clearpage\\setcounter{{page}}{{{number}}}{style}\\mlS{{{i}}}%\n")
        body += page.tex
        body.append(f"\\par\\mlS{{{i}}}\\message{{[MLPAGE]}}\n")
    preamble = PREAMBLE.format(size=cfg.size, margin=cfg.margin, fonts=PAGE_FONTS[cfg.font], colsep=cfg.colsep)
    (folder / "p.tex").write_text(preamble + "".join(body) + "\\end{document}\n", encoding="utf-8")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", "p.tex"], cwd=folder,
                   capture_output=True, timeout=600, text=True, errors="replace")
    log = (folder / "p.log").read_text(errors="replace") if (folder / "p.log").exists() else ""
    broken, seen = broken_pages(log, len(pages))
    marks_file = folder / "p.mlbox"
    return folder / "p.pdf", read_marks(marks_file) if marks_file.exists() else [], broken, seen


def page_records(pages: list[Page], marks: list[Mark], broken: set[int], seen: int) -> dict[int, tuple[int, list[Mark]]]:
    """Segment -> (physical page, its marks) for the segments that fit on one page and TeX did not break."""
    starts: dict[int, list[int]] = {}
    by_segment: dict[int, list[Mark]] = {}
    segment = -1
    for mark in marks:
        if mark.kind == "S":
            starts.setdefault(mark.key, []).append(mark.page)
            segment = mark.key
        elif segment >= 0:
            by_segment.setdefault(segment, []).append(mark)
    good = {}
    for i in range(min(seen, len(pages))):
        bounds = starts.get(i, [])
        if i in broken or len(bounds) != 2 or bounds[0] != bounds[1]:
            continue
        items = by_segment.get(i, [])
        if len(items) != len(pages[i].items) or any(m.page != bounds[0] for m in items):
            continue
        good[i] = (bounds[0] + 1, items)  # \mlship counts the pages shipped before
    return good


def rasterize(pdf: Path, pdf_page: int, dpi: int, out: Path) -> bool:
    """One PDF page -> a gray PNG at `dpi` (poppler's pdftoppm)."""
    stem = out.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", "-f", str(pdf_page),
                    "-l", str(pdf_page), str(pdf), str(stem)], capture_output=True, timeout=120, check=False)
    return out.exists()


def render_pages(out_dir: Path, count: int, *, corpus: Path, docbank: Path, seed: int = 0,
                 dpi_range: tuple[int, int] = (80, 170), per_document: int = 16, keep_pdf: bool = False) -> Path:
    """Render about `count` pages to `out_dir` (PNG + `pages.jsonl`); resumable by document.

    `keep_pdf` keeps each document's PDF too (a record names its file and page), for reading
    born-digital PDFs through their text layer.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    words = load_words(docbank)
    formulas = load_formulas(corpus, limit=60_000, seed=seed)
    documents = -(-count // per_document)
    for doc in range(documents):
        part = out_dir / f"part-{doc:05d}.jsonl"
        if part.exists():
            continue
        records = list(_render_document(out_dir, doc, seed, words, formulas, dpi_range, per_document, keep_pdf))
        tmp = part.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
        tmp.replace(part)
        logger.info("document %d of %d: %d pages", doc + 1, documents, len(records))
    manifest = out_dir / "pages.jsonl"
    with manifest.open("w") as f:
        for part in sorted(out_dir.glob("part-*.jsonl")):
            f.write(part.read_text())
    return manifest


def _render_document(out_dir: Path, doc: int, seed: int, words: list[str], formulas: Formulas,
                     dpi_range: tuple[int, int], per_document: int, keep_pdf: bool) -> Iterator[dict]:
    rng = random.Random(f"pages-{seed}-{doc}")
    cfg = DocumentConfig(rng.choice(sorted(PAGE_FONTS)), rng.choice([10, 11, 12]), rng.choice([0.6, 0.75, 1.0, 1.25]),
                         rng.choice([12, 18, 24]))
    composed = [compose(rng, words, formulas, cfg.size) for _ in range(per_document)]
    pages = [p for p, _ in composed]
    numbers = [rng.randint(1, 40) for _ in pages]
    footers = [rng.random() < 0.7 for _ in pages]
    with tempfile.TemporaryDirectory(prefix="mathlens-pages-") as tmp:
        pdf, marks, broken, seen = typeset(pages, cfg, Path(tmp), numbers, footers)
        kept = out_dir / f"{doc:05d}.pdf"
        if keep_pdf and pdf.exists():
            shutil.copyfile(pdf, kept)
        for i, (pdf_page, items) in sorted(page_records(pages, marks, broken, seen).items()):
            dpi = rng.randint(*dpi_range)
            name = f"{doc:05d}-{i:02d}.png"
            if not rasterize(pdf, pdf_page, dpi, out_dir / name):
                continue
            with Image.open(out_dir / name) as image:
                size = image.size
            record = _record(name, dpi, size, pages[i], items, composed[i][1], cfg, numbers[i] if footers[i] else None)
            yield {**record, "pdf": kept.name, "pdf_page": pdf_page} if keep_pdf else record


def _record(name: str, dpi: int, size: tuple[int, int], page: Page, items: list[Mark], two_columns: bool, cfg: DocumentConfig,
            footer: int | None) -> dict:
    boxes, formulas = [], []
    for mark in items:
        kind, latex = page.items[mark.key]
        boxes.append({"kind": kind, "bbox": box_pixels(mark, dpi), **({"latex": latex} if latex else {})})
        if latex:
            formulas.append(latex)
    markdown = page.markdown + ([str(footer)] if footer is not None else [])
    return {"image": name, "dpi": dpi, "width": size[0], "height": size[1],
            "font": cfg.font, "size": cfg.size, "columns": 2 if two_columns else 1, "boxes": boxes,
            "formulas": formulas, "markdown": "\n\n".join(markdown)}


VAL_SEED = 1000  # the validation pages' seed; training renders use others


def validation_pages(out_dir: Path, *, corpus: Path, docbank: Path, count: int = 128) -> Path:
    """The synthetic validation pages (1,700 x 2,200 at 200 dpi, their PDFs kept), rendered where missing."""
    return render_pages(out_dir, count, corpus=corpus, docbank=docbank, seed=VAL_SEED, dpi_range=(200, 200),
                        keep_pdf=True)
