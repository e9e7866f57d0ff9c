"""`mathlens prepare`: build every training source a config lists that is not built yet.

A training config names its data (`DataConfig.sources`) with the options that make it, so one
command rebuilds a run's data on a new machine. Each source is built into `data_root/<name>/`
by its renderer, which resumes from the chunks or shards it finished; a source is done when its
`manifest.jsonl` exists. The options a source was built with are kept beside it (`recipe.json`),
so a config that changes them later is refused instead of training on data it did not ask for.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields
from pathlib import Path

from mathlens.config import DataConfig, SourceConfig, to_dict
from mathlens.errors import MathlensError

logger = logging.getLogger(__name__)

RECIPE_FILE = "recipe.json"
# Options that only say how a source is used in training: changing them needs no rebuild.
USE_ONLY = frozenset({"name", "weight", "keep_all_from", "path"})
# The options each built kind reads; any other option must stay at its default.
OPTIONS: dict[str, frozenset[str]] = {
    "tex": frozenset({"seed", "limit", "fonts", "trailing_punct", "arrays", "swap_symbols"}),
    "mathjax": frozenset({"seed", "limit", "trailing_punct", "arrays", "swap_symbols"}),
    "ink": frozenset({"seed", "swap_symbols", "swap_kinds", "variants"}),
    "ink_layout": frozenset({"seed", "limit"}),
    "manifest": frozenset(),
}


def check_sources(data: DataConfig) -> None:
    """Refuse duplicate names and options a source's kind does not use (a typo would go unseen)."""
    names = [s.name for s in data.sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise MathlensError(f"data sources named twice: {', '.join(duplicates)}")
    defaults = SourceConfig(name="", kind="manifest")
    for source in data.sources:
        unused = [f.name for f in fields(SourceConfig) if f.name not in USE_ONLY | {"kind"} | OPTIONS[source.kind]
                  and getattr(source, f.name) != getattr(defaults, f.name)]
        if unused:
            raise MathlensError(f"data source {source.name!r} (kind {source.kind}) does not use: {', '.join(unused)}")


def missing_sources(data: DataConfig) -> list[SourceConfig]:
    """The sources whose manifest is not there yet."""
    return [s for s in data.sources if not data.manifest(s).exists()]


def prepare(data: DataConfig, *, num_workers: int = 2, only: Sequence[str] = ()) -> list[Path]:
    """Build the missing sources (all, or those named in `only`) and the validation manifest.

    Ink sources are drawn side by side, one process each; TeX and MathJax sources one after
    another, each over `num_workers` processes. Returns the manifests built.
    """
    check_sources(data)
    unknown = sorted(set(only) - {s.name for s in data.sources})
    if unknown:
        raise MathlensError(f"no data source named {', '.join(unknown)} (the config has "
                            f"{', '.join(s.name for s in data.sources)})")
    for source in data.sources:
        _check_recipe(data, source)
    todo = [s for s in missing_sources(data) if not only or s.name in only]
    not_built = [s.name for s in todo if s.kind == "manifest"]
    if not_built:
        raise MathlensError(f"manifest not found for data source {', '.join(not_built)}")
    for source in todo:  # every input there before anything is written
        if source.kind in ("tex", "mathjax", "ink_layout"):
            _required(data.corpus, "corpus", source)
        if source.kind in ("ink", "ink_layout"):
            _required(data.crohme_dir, "crohme_dir", source)
    for source in todo:
        _write_recipe(data, source)
    ink = [s for s in todo if s.kind in ("ink", "ink_layout")]
    printed = [s for s in todo if s.kind in ("tex", "mathjax")]
    built = []
    if ink:
        with ProcessPoolExecutor(max(1, min(num_workers, len(ink)))) as pool:
            built += list(pool.map(build_source, [data] * len(ink), ink))
    built += [build_source(data, source, num_workers) for source in printed]
    if data.val_split is not None and data.val_manifest is not None and not data.val_manifest.exists():
        built.append(write_val_manifest(data.val_split, data.val_manifest))
    return built


def build_source(data: DataConfig, source: SourceConfig, num_workers: int = 1) -> Path:
    """Render one source into data_root/<name>/ (resuming what an earlier run finished)."""
    out_dir = data.manifest(source).parent
    logger.info("preparing %s (%s) in %s", source.name, source.kind, out_dir)
    if source.kind in ("tex", "mathjax"):
        from mathlens.synth.corpus import CorpusRenderConfig, render_corpus
        from mathlens.synth.render import FONTS

        return render_corpus(CorpusRenderConfig(
            _required(data.corpus, "corpus", source), out_dir, num_workers=num_workers, limit=source.limit,
            seed=source.seed, renderer=source.kind, fonts=source.fonts or tuple(FONTS),
            trailing_punct=source.trailing_punct, arrays=source.arrays, swap_symbols=source.swap_symbols))
    crohme = _required(data.crohme_dir, "crohme_dir", source)
    if source.kind == "ink":
        from mathlens.synth.ink_corpus import InkRenderConfig, render_ink_corpus

        return render_ink_corpus(InkRenderConfig(
            crohme / "train_inkml.tar.gz", crohme / "train_captions.txt", out_dir, variants=source.variants,
            seed=source.seed, swap_symbols=source.swap_symbols, swap_kinds=source.swap_kinds))
    from mathlens.synth.ink_layout import LayoutRenderConfig, render_layout_corpus

    return render_layout_corpus(LayoutRenderConfig(
        _required(data.corpus, "corpus", source), crohme / "train_inkml.tar.gz", crohme / "train_captions.txt",
        crohme / "dictionary.txt", out_dir, limit=source.limit, seed=source.seed))


def write_val_manifest(split: Path, out: Path) -> Path:
    """An im2latex-style split as a manifest, shuffled so that its first N are a fair sample."""
    from mathlens.data.manifest import im2latex_records, write_manifest

    records = im2latex_records(split)
    random.Random(0).shuffle(records)
    write_manifest(out, records)
    return out


def _required(path: Path | None, name: str, source: SourceConfig) -> Path:
    if path is None:
        raise MathlensError(f"data source {source.name!r} (kind {source.kind}) needs data.{name}")
    if not path.exists():
        raise MathlensError(f"data.{name}: {path} not found")
    return path


def _recipe(source: SourceConfig) -> dict:
    return {k: v for k, v in to_dict(source).items() if k not in USE_ONLY}


def _check_recipe(data: DataConfig, source: SourceConfig) -> None:
    """Refuse a source folder built (or begun) with other options than the config's."""
    if source.kind == "manifest":
        return
    path = data.manifest(source).parent / RECIPE_FILE
    if path.exists() and json.loads(path.read_text(encoding="utf-8")) != _recipe(source):
        raise MathlensError(f"{path.parent} was built with other options ({path.read_text().strip()}); "
                            f"give the source a new name, or delete that folder to rebuild it")


def _write_recipe(data: DataConfig, source: SourceConfig) -> None:
    path = data.manifest(source).parent / RECIPE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_recipe(source), sort_keys=True) + "\n", encoding="utf-8")
