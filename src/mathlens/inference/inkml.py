"""Online ink (InkML files, stroke lists from a drawing pad) -> strokes -> a raster image.

Reads the CROHME dialect (`<annotation type="truth">$...$</annotation>`, traces of `x y`) and
the MathWriting dialect (`normalizedLabel`, traces of `x y t`). Ink is drawn at the scale of
printed training images (a typical symbol about as tall as a printed digit), so one model and
one preprocessing path serve both.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mathlens.errors import InvalidInputError

MAX_INKML_BYTES = 20 * 2**20
MAX_POINTS = 200_000
SYMBOL_HEIGHT_PX = 14.0  # median stroke height after scaling (a printed digit at ~100 dpi)
STROKE_WIDTH_PX = 1.6
_SUPERSAMPLE = 4
_NUMBER_RE = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")

Strokes = Sequence[Sequence[Sequence[float]]]


@dataclass(frozen=True)
class Symbol:
    label: str  # as annotated: `x`, `\alpha`, `-` (also a fraction bar), `\sqrt`
    strokes: tuple[int, ...]  # indices into Ink.strokes


@dataclass(frozen=True)
class Ink:
    strokes: list[np.ndarray] = field(default_factory=list)  # each (N, 2): x, y (y grows downwards)
    label: str | None = None  # the LaTeX annotation, if the file has one
    symbols: tuple[Symbol, ...] = ()  # the symbol segmentation (CROHME training files have one)


def looks_like_inkml(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith(b"<ink") or (head.startswith(b"<?xml") and b"<ink" in data[:2048].lower())


def parse_inkml(source: str | Path | bytes) -> Ink:
    """Strokes and label of an InkML document; raises InvalidInputError when it is malformed."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if not data.strip():
        raise InvalidInputError("empty InkML file")
    if len(data) > MAX_INKML_BYTES:
        raise InvalidInputError(f"InkML file too large ({len(data):,} bytes)")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise InvalidInputError(f"malformed InkML: {err}") from None
    if _local(root.tag) != "ink":
        raise InvalidInputError(f"not InkML: root element is <{_local(root.tag)}>")
    elements = [el for el in root.iter() if _local(el.tag) == "trace"]
    traces = [(el.get("id"), _parse_trace(el.text or "", i)) for i, el in enumerate(elements)]
    traces = [(trace_id, s) for trace_id, s in traces if len(s)]
    strokes = [s for _, s in traces]
    if not strokes:
        raise InvalidInputError("InkML file has no strokes")
    if sum(len(s) for s in strokes) > MAX_POINTS:
        raise InvalidInputError(f"InkML file has more than {MAX_POINTS:,} points")
    return Ink(strokes, _label(root), _symbols(root, {trace_id: i for i, (trace_id, _) in enumerate(traces)}))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _label(root: ET.Element) -> str | None:
    annotations = {el.get("type"): (el.text or "").strip() for el in root if _local(el.tag) == "annotation"}
    for key in ("normalizedLabel", "label", "truth"):
        if annotations.get(key):
            return annotations[key].strip().strip("$").strip()
    return None


def _symbols(root: ET.Element, index_of: dict[str | None, int]) -> tuple[Symbol, ...]:
    """The annotated trace groups; a group pointing at a missing or empty trace is left out."""
    out = []
    for group in root.iter():
        if _local(group.tag) != "traceGroup":
            continue
        labels = [(el.text or "").strip() for el in group
                  if _local(el.tag) == "annotation" and el.get("type") == "truth"]
        refs = [el.get("traceDataRef") for el in group if _local(el.tag) == "traceView"]
        if labels and labels[0] and refs and all(ref in index_of for ref in refs):
            out.append(Symbol(labels[0], tuple(index_of[ref] for ref in refs)))
    return tuple(out)


def _parse_trace(text: str, index: int) -> np.ndarray:
    points = []
    for item in text.split(","):
        values = item.split()
        if not values:
            continue
        if len(values) < 2 or not all(_NUMBER_RE.match(v) for v in values[:2]):
            raise InvalidInputError(f"trace {index}: cannot read point {item.strip()[:40]!r}")
        points.append((float(values[0]), float(values[1])))
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def strokes_from_lists(strokes: Strokes) -> list[np.ndarray]:
    """Validate a stroke list from the API or a drawing pad: [[(x, y), ...], ...]."""
    out = []
    for i, stroke in enumerate(strokes):
        try:
            arr = np.asarray(stroke, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInputError(f"stroke {i} is not a list of (x, y) points") from None
        if arr.ndim != 2 or arr.shape[1] < 2 or not np.isfinite(arr[:, :2]).all():
            raise InvalidInputError(f"stroke {i} is not a list of (x, y) points")
        if len(arr):
            out.append(arr[:, :2])
    if not out:
        raise InvalidInputError("no strokes to recognize")
    if sum(len(s) for s in out) > MAX_POINTS:
        raise InvalidInputError(f"more than {MAX_POINTS:,} points")
    return out


def ink_scale(strokes: list[np.ndarray]) -> float:
    """Pixels per ink unit that make the median stroke SYMBOL_HEIGHT_PX tall.

    Dots and short dashes say little about the writing size, so only strokes taller than a
    quarter of the tallest one count.
    """
    heights = np.array([np.ptp(s[:, 1]) for s in strokes])
    widths = np.array([np.ptp(s[:, 0]) for s in strokes])
    sizes = np.maximum(heights, widths * 0.5)
    tall = sizes[sizes >= 0.25 * sizes.max()] if sizes.max() > 0 else sizes
    typical = float(np.median(tall)) if tall.size and np.median(tall) > 0 else 1.0
    return SYMBOL_HEIGHT_PX / typical


def render_strokes(strokes: list[np.ndarray], scale: float | None = None, width_px: float = STROKE_WIDTH_PX,
                   margin_px: int = 4) -> Image.Image:
    """Draw strokes black on white (anti-aliased by supersampling); returns a grayscale image."""
    scale = ink_scale(strokes) if scale is None else scale
    points = np.concatenate(strokes)
    origin = points.min(axis=0)
    extent = (points.max(axis=0) - origin) * scale
    if extent.max() > 8000:
        raise InvalidInputError("ink too large to draw")
    s = _SUPERSAMPLE
    size = (int(extent[0] + 2 * margin_px + 1) * s, int(extent[1] + 2 * margin_px + 1) * s)
    canvas = Image.new("L", size, 255)
    draw = ImageDraw.Draw(canvas)
    pen = max(1, round(width_px * s))
    for stroke in strokes:
        xy = [(float(x), float(y)) for x, y in ((stroke - origin) * scale + margin_px) * s]
        if len(xy) == 1:
            (x, y), r = xy[0], pen / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
        else:
            draw.line(xy, fill=0, width=pen, joint="curve")
    return canvas.resize((size[0] // s, size[1] // s), Image.Resampling.BOX)
