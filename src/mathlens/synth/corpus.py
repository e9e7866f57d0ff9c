"""Turn the formula corpus into a rendered training set: chunks rendered in parallel, resumable.

Each chunk is rendered with one font and one DPI drawn at random, and writes its manifest last:
a chunk with a manifest is done, so an interrupted run resumes where it stopped. The renderer is
TeX Live (several font families) or MathJax (web pages), so training sees both kinds of output.
"""

from __future__ import annotations

import gzip
import logging
import random
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Literal

from mathlens.synth.array_convention import as_arrays
from mathlens.synth.latex_swap import swap_symbols
from mathlens.data.manifest import merge_parts, write_part
from mathlens.synth.render import FONTS, RenderJob, render_batch
from mathlens.synth.render_web import DEFAULT_SCALE, render_web_batch
from mathlens.errors import LatexSyntaxError, RenderError
from mathlens.tokenizer.normalize import normalize

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorpusRenderConfig:
    corpus_path: Path
    out_dir: Path
    max_tokens: int = 150
    min_tokens: int = 3
    chunk_size: int = 500
    dpi_range: tuple[int, int] = (75, 135)
    fonts: tuple[str, ...] = tuple(FONTS)
    num_workers: int = 2
    limit: int | None = None
    seed: int = 0
    renderer: Literal["tex", "mathjax"] = "tex"
    trailing_punct: float = 0.0  # share of formulas that end a sentence, as displays in papers do
    arrays: bool = False  # only the formulas with matrices or cases, written as arrays (array_convention)
    swap_symbols: bool = False  # every formula with symbols renamed to others of their kind (latex_swap)


# Sentence punctuation after a displayed formula, roughly as often as papers write each. The
# corpus has none (its formulas were cut out of their sentences), im2latex-100k and real PDF
# crops have it on most displays, and a model that never saw it reads a closing "." as nothing.
SENTENCE_ENDS: tuple[tuple[str, float], ...] = (
    (".", 0.45), (",", 0.35), ("\\ .", 0.05), ("\\ ,", 0.04), ("\\quad .", 0.03),
    ("\\quad ,", 0.02), ("\\,.", 0.02), ("\\;,", 0.02), (";", 0.02),
)


@dataclass(frozen=True)
class CorpusEntry:
    latex: str
    tokens: list[str]
    kind: str
    render_env: str
    source: str


def read_corpus(path: Path, min_tokens: int = 1, max_tokens: int = 10_000) -> Iterator[CorpusEntry]:
    """Rows of formulas.tsv.gz whose normalized length is in range; unparsable rows are skipped."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        header = next(f).rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for line in f:
            parts = line.rstrip("\n").split("\t")
            try:
                tokens = normalize(parts[col["formula"]])
            except LatexSyntaxError:
                continue
            if min_tokens <= len(tokens) <= max_tokens:
                yield CorpusEntry(parts[col["formula"]], tokens, parts[col["kind"]],
                                  parts[col["render_env"]], parts[col["source_repo"]])


def end_sentence(entry: CorpusEntry, rng: random.Random) -> CorpusEntry:
    """The entry with sentence punctuation after it (multi-line formulas are left as they are)."""
    if entry.kind == "multiline":
        return entry
    ends, weights = zip(*SENTENCE_ENDS)
    latex = f"{entry.latex} {rng.choices(ends, weights)[0]}"
    return CorpusEntry(latex, normalize(latex), entry.kind, entry.render_env, entry.source)


def with_arrays(entry: CorpusEntry) -> CorpusEntry | None:
    """The entry with its matrices and cases written as arrays; None if it has none."""
    latex = as_arrays(entry.latex)
    if latex is None:
        return None
    try:
        return CorpusEntry(latex, normalize(latex), entry.kind, entry.render_env, entry.source)
    except LatexSyntaxError:
        return None


def with_swaps(entries: Iterable[CorpusEntry], seed: int) -> Iterator[CorpusEntry]:
    """The entries with one or two symbols swapped for others of their kind; those without any are left out."""
    rng = random.Random(f"swap-{seed}")
    for entry in entries:
        latex = swap_symbols(entry.latex, rng)
        if latex is None:
            continue
        try:
            yield CorpusEntry(latex, normalize(latex), entry.kind, entry.render_env, entry.source)
        except LatexSyntaxError:
            continue


def _render_chunk(args: tuple[int, list[CorpusEntry], CorpusRenderConfig]) -> int:
    index, entries, cfg = args
    rng = random.Random(cfg.seed * 1_000_003 + index)
    if cfg.trailing_punct > 0:
        punct_rng = random.Random(f"punct-{cfg.seed}-{index}")  # leaves the font and dpi draws as they were
        entries = [end_sentence(e, punct_rng) if punct_rng.random() < cfg.trailing_punct else e for e in entries]
    font = rng.choice(cfg.fonts) if cfg.renderer == "tex" else "mathjax"
    dpi = rng.randint(*cfg.dpi_range)
    chunk_dir = cfg.out_dir / f"chunk{index:05d}"
    jobs = [RenderJob(f"{i:04d}", e.latex, e.kind, e.render_env) for i, e in enumerate(entries)]  # type: ignore[arg-type]
    try:
        if cfg.renderer == "tex":
            done = render_batch(jobs, chunk_dir, font=font, dpi=dpi)
        else:  # MathJax scale 1.0 is about TeX at 100 dpi
            done = render_web_batch(jobs, chunk_dir, scale=DEFAULT_SCALE * dpi / 100)
    except (RenderError, OSError) as err:
        logger.warning("chunk %d failed: %s", index, str(err)[:300])
        return 0
    records = [
        {"image": f"{chunk_dir.name}/{job.key}.png", "tokens": e.tokens, "font": font, "dpi": dpi,
         "source": e.source}
        for job, e in zip(jobs, entries) if job.key in done
    ]
    write_part(chunk_dir, records)
    return len(records)


def check_fonts(fonts: tuple[str, ...]) -> None:
    """Render one formula per font first: a missing TeX package must stop the run, not cost a share of the data."""
    with tempfile.TemporaryDirectory() as tmp:
        for font in fonts:
            hint = f"font setup {font!r} does not render; is its TeX package installed (scripts/install-deps.sh)?"
            try:
                done = render_batch([RenderJob("probe", "x^{2}")], Path(tmp) / font, font=font, dpi=80)
            except RenderError as err:
                raise RenderError(hint, err.log_tail) from err
            if "probe" not in done:
                raise RenderError(hint)


def render_corpus(cfg: CorpusRenderConfig) -> Path:
    """Render the corpus into cfg.out_dir and write the merged `manifest.jsonl`; returns its path."""
    if cfg.renderer == "tex":
        check_fonts(cfg.fonts)
    entries = list(read_corpus(cfg.corpus_path, cfg.min_tokens, cfg.max_tokens))
    if cfg.arrays:
        entries = [e for e in map(with_arrays, entries) if e is not None and len(e.tokens) <= cfg.max_tokens]
    random.Random(cfg.seed).shuffle(entries)
    if cfg.swap_symbols:  # after the shuffle, so that --limit swaps only the formulas it renders
        entries = list(islice(with_swaps(entries, cfg.seed), cfg.limit))
    if cfg.limit is not None:
        entries = entries[: cfg.limit]
    chunks = [entries[i: i + cfg.chunk_size] for i in range(0, len(entries), cfg.chunk_size)]
    todo = [(i, c, cfg) for i, c in enumerate(chunks)
            if not (cfg.out_dir / f"chunk{i:05d}" / "manifest.jsonl").exists()]
    logger.info("%d formulas in %d chunks, %d to render", len(entries), len(chunks), len(todo))
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(cfg.num_workers) as pool:
        for n, count in enumerate(pool.map(_render_chunk, todo), start=1):
            if n % 20 == 0 or n == len(todo):
                logger.info("chunk %d/%d done (%d images)", n, len(todo), count)
    return merge_parts(cfg.out_dir, (f"chunk{i:05d}" for i in range(len(chunks))))
