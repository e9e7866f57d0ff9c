"""Every labelled set the project reads, as one list of items (a picture or ink, and its tokens).

Read with the readers the rest of mathlens uses: the CROHME training package (InkML archive and
tokenized captions, as `mathlens prepare` reads it for the ink sources), an InkML archive or folder
(labels from the files' own annotation), the folders `mathlens eval` takes (im2latex-style splits,
`caption.txt` / `labels.tsv` of pictures or InkML), and manifests (`manifest.jsonl`, what
`mathlens prepare` renders). Labels become canonical tokens, as training targets do.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from mathlens.data.manifest import read_manifest
from mathlens.errors import InvalidInputError, LatexSyntaxError, MathlensError
from mathlens.inference.inkml import Ink, parse_inkml
from mathlens.metrics.evaluate import LABEL_FILES, load_samples
from mathlens.synth.ink_corpus import inkml_shards, read_captions, with_crohme_limits
from mathlens.tokenizer.normalize import normalize
from mathlens.vlm.prompts import Kind

logger = logging.getLogger(__name__)

CROHME_ARCHIVE, CROHME_CAPTIONS = "train_inkml.tar.gz", "train_captions.txt"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class Item:
    key: str  # `<source>/<id>`: unique over the sources; names the picture and the cached reading
    tokens: tuple[str, ...]
    kind: Kind
    image_path: Path | None = None  # a picture, copied as it is
    ink: Ink | None = None  # or ink, drawn to a picture


def read_sources(paths: list[Path], kind: Kind | None = None) -> list[Item]:
    """All items of all sources, in order; `kind` (when given) says what every picture shows."""
    items: list[Item] = []
    names: set[str] = set()
    for path in paths:
        name = path.name.removesuffix(".jsonl").split(".tar")[0] or "source"
        while name in names:
            name += "_"
        names.add(name)
        found = read_source(path, name)
        logger.info("%s: %d labelled items", path, len(found))
        items += found
    return items if kind is None else [replace(item, kind=kind) for item in items]


def read_source(path: Path, name: str) -> list[Item]:
    """One source, by its layout; a path that is none of them is a MathlensError."""
    if not path.exists():
        raise MathlensError(f"{path}: no such file or folder")
    if path.is_dir() and (path / CROHME_ARCHIVE).is_file() and (path / CROHME_CAPTIONS).is_file():
        return crohme_package(path, name)
    if path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES):
        return inkml_members(((Path(m).stem, data) for shard in inkml_shards(path, 1000) for m, data in shard), name)
    if path.is_file() and path.suffix == ".jsonl":
        return manifest_items(path, name)
    if path.is_file() and path.suffix == ".inkml":
        return inkml_members([(path.stem, path.read_bytes())], name)
    if path.is_dir() and ((path / "matching.txt").is_file() or any((path / f).is_file() for f in LABEL_FILES)):
        return label_folder(path, name)
    if path.is_dir() and (files := sorted(path.rglob("*.inkml"))):
        return inkml_members(((str(f.relative_to(path).with_suffix("")), f.read_bytes()) for f in files), name)
    raise MathlensError(f"{path}: not a labelled set (expected the CROHME training folder, an InkML archive or "
                        f"folder, a folder with matching.txt or {'/'.join(LABEL_FILES)}, or a manifest .jsonl)")


def crohme_package(folder: Path, name: str) -> list[Item]:
    """CROHME training ink with the tokenized captions, labels as the ink training sources take them."""
    captions = read_captions(folder / CROHME_CAPTIONS)
    items = []
    for shard in inkml_shards(folder / CROHME_ARCHIVE, 1000):
        for member, data in shard:
            key = Path(member).stem
            if key not in captions:
                logger.debug("skipping %s: no caption", key)
                continue
            ink, tokens = _ink(data, key), _tokens(captions[key], key)
            if ink is not None and tokens is not None:
                items.append(Item(f"{name}/{key}", tuple(with_crohme_limits(list(tokens))), "handwritten", ink=ink))
    return items


def inkml_members(members: Iterable[tuple[str, bytes]], name: str) -> list[Item]:
    """InkML documents labelled by their own annotation (CROHME `truth`, MathWriting `normalizedLabel`)."""
    items = []
    for key, data in members:
        ink = _ink(data, key)
        tokens = _tokens(ink.label, key) if ink is not None and ink.label else None
        if ink is not None and tokens is not None:
            items.append(Item(f"{name}/{key}", tokens, "handwritten", ink=ink))
    return items


def label_folder(folder: Path, name: str) -> list[Item]:
    """A folder `mathlens eval` reads; InkML paths in it are read as ink."""
    printed = (folder / "matching.txt").is_file()  # im2latex-style splits are typeset formulas
    image_dir = next((folder / d for d in ("images", "img") if (folder / d).is_dir()), folder)  # as load_samples
    items = []
    for sample in load_samples(folder):
        key = f"{name}/{_inside(sample.image_path, image_dir)}"
        tokens = _tokens(sample.reference, key)
        if tokens is None:
            continue
        if sample.image_path.suffix == ".inkml":
            ink = _ink(sample.image_path, key)
            if ink is not None:
                items.append(Item(key, tokens, "handwritten", ink=ink))
        elif sample.image_path.is_file():
            items.append(Item(key, tokens, "printed" if printed else "", image_path=sample.image_path))
        else:
            logger.warning("skipping %s: %s not found", key, sample.image_path)
    return items


def manifest_items(path: Path, name: str) -> list[Item]:
    """A manifest's records; those rendered here (with a dpi) are printed formulas."""
    return [Item(f"{name}/{_inside(r.image_path, path.parent)}", r.tokens, "printed" if r.dpi else "",
                 image_path=r.image_path) for r in read_manifest(path)]


def _inside(image_path: Path, root: Path) -> str:
    """The picture's path under `root` without its suffix (folder and name when it lies elsewhere)."""
    try:
        return str(image_path.relative_to(root).with_suffix(""))
    except ValueError:
        return f"{image_path.parent.name}/{image_path.stem}"


def _ink(source: bytes | Path, key: str) -> Ink | None:
    try:
        return parse_inkml(source)
    except InvalidInputError as err:
        logger.warning("skipping %s: %s", key, err)
        return None


def _tokens(latex: str, key: str) -> tuple[str, ...] | None:
    try:
        tokens = tuple(normalize(latex))
    except LatexSyntaxError as err:
        logger.warning("skipping %s: label does not parse (%s)", key, err)
        return None
    return tokens or None
