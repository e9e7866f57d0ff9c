"""CROHME training ink -> rendered training images, several writing variants per expression.

Each variant draws the same strokes with its own pen width, size, slant and jitter, so the model
sees handwriting drawn the many ways tablets and scans show it. Labels come from the tokenized
CROHME captions, normalized like every other target and put in the convention the papers score
in (`with_crohme_limits`). With `swap_symbols`, each variant also redraws one or two symbols
(letters, digits, operators, relations) as others of their kind (`symbol_swap`): new expressions
from the same ink. Resumable like the printed corpus: a shard with a manifest is done.
"""

from __future__ import annotations

import logging
import random
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mathlens.inference.inkml import SYMBOL_HEIGHT_PX, ink_scale, parse_inkml, render_strokes
from mathlens.data.manifest import merge_parts, write_part
from mathlens.synth.symbol_swap import DEFAULT_KINDS as DEFAULT_SWAP_KINDS
from mathlens.synth.symbol_swap import SymbolBank, swap_symbols
from mathlens.errors import InvalidInputError, LatexSyntaxError
from mathlens.tokenizer.normalize import normalize

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InkRenderConfig:
    inkml_tar: Path
    captions: Path
    out_dir: Path
    variants: int = 3
    shard_size: int = 1000
    width_range: tuple[float, float] = (1.1, 2.6)
    symbol_height_range: tuple[float, float] = (11.0, 18.0)
    max_slant: float = 0.2
    jitter_px: float = 0.4
    seed: int = 0
    swap_symbols: bool = False  # draw every variant with symbols swapped for others of their kind (see symbol_swap)
    swap_kinds: tuple[str, ...] = DEFAULT_SWAP_KINDS  # which kinds may change (symbol_swap.KINDS)


def read_captions(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, caption = line.partition("\t")
        if caption:
            out[key.strip()] = caption.strip()
    return out


# Operators whose bounds the CROHME test captions (CoMER convention) always mark with \limits.
LIMITS_OPERATORS = frozenset({"\\sum", "\\lim", "\\int"})


def with_crohme_limits(tokens: list[str]) -> list[str]:
    """Insert `\\limits` after a \\sum, \\lim or \\int that carries bounds.

    The CROHME 2014 test captions write `\\sum \\limits _ { i }` every time (58 \\sum, 31 \\lim,
    16 \\int, no exception), while the training captions here never do for \\sum and \\lim and
    do for half of the \\int. A model trained on those labels could not match 8% of the test
    expressions however well it read them.
    """
    out: list[str] = []
    for i, token in enumerate(tokens):
        out.append(token)
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in LIMITS_OPERATORS and following in ("_", "^"):
            out.append("\\limits")
    return out


# What the CROHME benchmark labels never write (the 111-symbol dictionary of WAP, BTTR and CoMER
# has none of it): delimiter sizing, spacing and upright-font commands, which ink cannot show.
_UNSEEN_IN_INK = frozenset({"\\left", "\\right", "\\ ", "\\,", "\\;", "\\:", "\\!", "\\quad", "\\qquad"})
_UPRIGHT = frozenset({"\\mathrm", "\\text"})
_LOST_SPACE_RE = re.compile(r"\\(lt|gt)([A-Za-z]+)")  # raw truth `\ltq`: `\lt q` without its space


def in_crohme_symbols(tokens: list[str]) -> list[str]:
    """Tokens in the CROHME benchmark convention: `\\mathrm { d } \\left ( x \\right )` -> `d ( x )`.

    The CROHME 2013 raw truth writes what a typesetter would (upright d, sized brackets); the
    2014 captions and the published results use the symbols a writer can draw, nothing more.
    """
    out: list[str] = []
    drop_closer: list[bool] = []  # per open brace: does its `}` belong to an unwrapped command?
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in _UPRIGHT and following == "{":
            drop_closer.append(True)
            i += 2
            continue
        if token in ("\\left", "\\right") and following == ".":  # an invisible delimiter
            i += 2
            continue
        if token == "}" and drop_closer and drop_closer.pop():
            i += 1
            continue
        if token == "{":
            drop_closer.append(False)
        if lost := _LOST_SPACE_RE.fullmatch(token):
            out += ["<" if lost[1] == "lt" else ">", *lost[2]]
        elif token not in _UNSEEN_IN_INK:
            out.append(token)
        i += 1
    return out


def writing_variant(strokes: list[np.ndarray], rng: random.Random, max_slant: float = 0.2,
                    jitter_px: float = 0.4, px_per_unit: float | None = None) -> list[np.ndarray]:
    """Slant and jitter the ink (in ink units; `px_per_unit` as it will be drawn) the way writers and tablets differ."""
    slant = rng.uniform(-1, 1) * rng.uniform(0, 1) * max_slant  # mostly upright
    unit = 1.0 / (px_per_unit or ink_scale(strokes))  # ink units per output pixel
    noise = np.random.default_rng(rng.randrange(2**32))
    out = []
    for stroke in strokes:
        s = stroke.copy()
        s[:, 0] += slant * (s[:, 1] - s[:, 1].mean())
        s += noise.normal(0, rng.uniform(0, jitter_px) * unit, s.shape)
        out.append(s)
    return out


def _render_shard(index: int, members: list[tuple[str, bytes]], captions: dict[str, str],
                  cfg: InkRenderConfig, bank: SymbolBank | None = None) -> int:
    shard_dir = cfg.out_dir / f"shard{index:04d}"
    shard_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(cfg.seed * 1_000_003 + index)
    source = "crohme2016_swap" if bank else "crohme2016"
    records = []
    for name, data in members:
        key = Path(name).stem
        if key not in captions:
            continue
        try:
            ink = parse_inkml(data)
        except InvalidInputError as err:
            logger.debug("skipping %s: %s", key, err)
            continue
        for v in range(cfg.variants):
            strokes, caption = ink.strokes, captions[key].split()
            if bank is not None:
                swapped = swap_symbols(ink, caption, bank, rng, kinds=cfg.swap_kinds)
                if swapped is None:
                    break
                strokes, caption = swapped
            try:
                tokens = with_crohme_limits(normalize(" ".join(caption)))
            except LatexSyntaxError as err:
                logger.debug("skipping %s: %s", key, err)
                break
            ink_v = writing_variant(strokes, rng, cfg.max_slant, cfg.jitter_px)
            scale = ink_scale(ink_v) * rng.uniform(*cfg.symbol_height_range) / SYMBOL_HEIGHT_PX
            try:
                image = render_strokes(ink_v, scale=scale, width_px=rng.uniform(*cfg.width_range))
            except InvalidInputError:
                continue
            file_name = f"{key}_{v}.png"
            image.save(shard_dir / file_name)
            records.append({"image": f"{shard_dir.name}/{file_name}", "tokens": tokens, "source": source})
    write_part(shard_dir, records)
    return len(records)


def inkml_shards(archive: Path, size: int) -> Iterator[list[tuple[str, bytes]]]:
    """InkML members in archive order (a .tar.gz only reads fast front to back), `size` at a time."""
    shard: list[tuple[str, bytes]] = []
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".inkml"):
                shard.append((member.name, tar.extractfile(member).read()))  # type: ignore[union-attr]
                if len(shard) == size:
                    yield shard
                    shard = []
    if shard:
        yield shard


def symbol_bank(archive: Path, captions: dict[str, str]) -> SymbolBank:
    """The letters, digits, operators and relations of every segmented InkML in the archive."""
    bank = SymbolBank()
    for members in inkml_shards(archive, 1000):
        for name, data in members:
            try:
                bank.add(parse_inkml(data), captions.get(Path(name).stem, "").split())
            except InvalidInputError:
                continue
    logger.info("symbol bank: %d glyphs of %d labels", sum(map(len, bank.glyphs.values())), len(bank.glyphs))
    return bank


def render_ink_corpus(cfg: InkRenderConfig) -> Path:
    """Render every captioned InkML of the archive; returns the merged manifest path."""
    captions = read_captions(cfg.captions)
    bank = symbol_bank(cfg.inkml_tar, captions) if cfg.swap_symbols else None
    num_shards = 0
    for index, members in enumerate(inkml_shards(cfg.inkml_tar, cfg.shard_size)):
        num_shards += 1
        if not (cfg.out_dir / f"shard{index:04d}" / "manifest.jsonl").exists():
            count = _render_shard(index, members, captions, cfg, bank)
            logger.info("ink shard %d: %d images", index + 1, count)
    return merge_parts(cfg.out_dir, (f"shard{index:04d}" for index in range(num_shards)))
