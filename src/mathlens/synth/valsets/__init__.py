"""Validation sets built from the shared datasets (`mathlens val-sets`), and where every set lives.

Two sets are read where they lie (the im2latex-100k validation split and the CROHME 2014
bitmaps); the others are built into one folder (`.cache/val` by default), each with the label
file `mathlens eval` reads. A set is built whole into `<name>.partial/` and renamed when done, so
an interrupted build is started again, never half used.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mathlens.errors import MathlensError

logger = logging.getLogger(__name__)

# Read in place, relative to the datasets folder (../shared/datasets in the repository's layout).
IN_PLACE = {"im2latex_val": Path("im2latex100k/val"), "crohme2014_bitmaps": Path("crohme/test2014")}


@dataclass(frozen=True)
class ValSet:
    name: str
    what: str
    build: Callable[[Path, Path, Path], Path]  # (datasets, val_root, out) -> out
    needs: tuple[str, ...] = ()


def _crohme2014(datasets: Path, val_root: Path, out: Path) -> Path:
    from mathlens.synth.valsets.crohme import inkml_2014
    return inkml_2014(datasets / "crohme", out)


def _crohme2013(datasets: Path, val_root: Path, out: Path) -> Path:
    from mathlens.synth.valsets.crohme import inkml_2013
    return inkml_2013(datasets / "crohme", out)


def _photo(datasets: Path, val_root: Path, out: Path) -> Path:
    from mathlens.synth.valsets.photo import photo_set
    return photo_set(val_root / "crohme2014_inkml", out)


def _katex(datasets: Path, val_root: Path, out: Path) -> Path:
    from mathlens.synth.valsets.katex import katex_set
    return katex_set(datasets / IN_PLACE["im2latex_val"], out)


def _mathjax(datasets: Path, val_root: Path, out: Path) -> Path:
    from mathlens.synth.valsets.printed import mathjax_set
    return mathjax_set(datasets / IN_PLACE["im2latex_val"], out)


def _libertine(datasets: Path, val_root: Path, out: Path) -> Path:
    from mathlens.synth.valsets.printed import libertine_set
    return libertine_set(datasets / IN_PLACE["im2latex_val"], out)


def _upscaled(datasets: Path, val_root: Path, out: Path) -> Path:
    from mathlens.synth.valsets.printed import upscaled_set
    return upscaled_set(datasets / IN_PLACE["im2latex_val"], out)


VALSETS: dict[str, ValSet] = {s.name: s for s in (
    ValSet("crohme2014_inkml", "CROHME 2014 test ink (InkML), paper-convention captions", _crohme2014),
    ValSet("crohme2013_inkml", "CROHME 2013 test ink, raw truth tokenized as the 2014 captions", _crohme2013),
    ValSet("crohme2014_photo", "CROHME 2014 ink as simulated phone photos", _photo, needs=("crohme2014_inkml",)),
    ValSet("im2latex_katex300", "300 im2latex-100k val formulas drawn by KaTeX in chromium", _katex),
    ValSet("im2latex_mathjax300", "300 im2latex-100k val formulas drawn by MathJax", _mathjax),
    ValSet("im2latex_libertine300", "300 im2latex-100k val formulas in Linux Libertine / Biolinum", _libertine),
    ValSet("im2latex_up3", "the first 200 im2latex-100k val images upscaled 3x", _upscaled),
)}


def set_dir(name: str, datasets: Path, val_root: Path) -> Path:
    """Where the set `name` is read from."""
    if name in IN_PLACE:
        return datasets / IN_PLACE[name]
    if name not in VALSETS:
        raise MathlensError(f"no validation set {name!r}; choose from {', '.join([*IN_PLACE, *VALSETS])}")
    return val_root / name


def ensure_set(name: str, datasets: Path, val_root: Path) -> Path:
    """Where the set `name` is read from, built first when it is a derived set not built yet."""
    if name not in IN_PLACE:
        build_valsets([name], datasets, val_root)
    return set_dir(name, datasets, val_root)


def is_built(path: Path) -> bool:
    return any((path / f).is_file() for f in ("labels.tsv", "caption.txt", "formulas.norm.txt"))


def build_valsets(names: Sequence[str], datasets: Path, val_root: Path, *, force: bool = False) -> list[Path]:
    """Build the named sets (and the sets they need) that are not built yet; returns their folders."""
    if not datasets.is_dir():
        raise MathlensError(f"datasets folder {datasets} not found")
    unknown = sorted(set(names) - set(VALSETS))
    if unknown:
        raise MathlensError(f"no validation set {', '.join(unknown)}; choose from {', '.join(VALSETS)}")
    built = []
    for name in _with_needs(names):
        out = val_root / name
        if out.exists() and is_built(out) and not (force and name in names):
            built.append(out)
            continue
        partial = val_root / f"{name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        logger.info("building %s (%s)", name, VALSETS[name].what)
        VALSETS[name].build(datasets, val_root, partial)
        shutil.rmtree(out, ignore_errors=True)
        partial.rename(out)
        built.append(out)
    return built


def _with_needs(names: Sequence[str]) -> list[str]:
    ordered: list[str] = []
    for name in names:
        for needed in (*VALSETS[name].needs, name):
            if needed not in ordered:
                ordered.append(needed)
    return ordered
