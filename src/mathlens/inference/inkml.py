"""Online ink (InkML files, stroke lists from a drawing pad) -> strokes -> a raster image.

Reads the CROHME dialect (`<annotation type="truth">$...$</annotation>`, traces of `x y` or
`x y t`) and the MathWriting dialect (`normalizedLabel`, traces of `x y t`); x and y are taken
from the channels the `traceFormat` declares (InkML's default: the first two values). Ink is
drawn at the scale of printed training images (a typical symbol about as tall as a printed
digit), so one model and one preprocessing path serve both.
"""

from __future__ import annotations

import numbers
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
# Ink coordinates are device units: pixels, or tablet units as fine as 0.01 mm. The largest in
# CROHME and MathWriting is about 26,000; a million such units is 10 m, so a coordinate beyond it
# (or inf, or NaN) is a broken file or a bad request, not writing, and is refused.
MAX_COORDINATE = 1e6
SYMBOL_HEIGHT_PX = 14.0  # median stroke height after scaling (a printed digit at ~100 dpi)
STROKE_WIDTH_PX = 1.6
_SUPERSAMPLE = 4
_NUMBER_RE = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_XML_START = re.compile(rb"<(\?xml|!--|!doctype|[a-z_])", re.IGNORECASE)
_BOM = b"\xef\xbb\xbf"

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
    """True for InkML and for any other XML document (SVG, XHTML, ...), which parse_inkml then
    names ("not InkML: the root element is <svg>") where an image decoder could only say it is
    not an image. No image format starts with '<'."""
    return bool(_XML_START.match(data[:512].removeprefix(_BOM).lstrip()))


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
        if b"<ink" in data[:2048].lower():
            raise InvalidInputError(f"malformed InkML: {err}") from None
        raise InvalidInputError(f"not InkML: markup that is not well-formed XML ({err})") from None
    if _local(root.tag) != "ink":
        raise InvalidInputError(f"not InkML: the root element is <{_local(root.tag)}>")
    xy = _xy_channels(root)
    elements = [el for el in root.iter() if _local(el.tag) == "trace"]
    traces = [(el.get("id"), _parse_trace(el.text or "", i, xy)) for i, el in enumerate(elements)]
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


def _xy_channels(root: ET.Element) -> tuple[int, int]:
    """Where x and y sit in each point: the first traceFormat that declares channels says (CROHME
    declares X Y, X Y T or X Y F; MathWriting X Y T); without one, InkML's default X Y."""
    for element in root.iter():
        if _local(element.tag) != "traceFormat":
            continue
        names = [(el.get("name") or "").upper() for el in element if _local(el.tag) == "channel"]
        if not names:
            continue
        if "X" not in names or "Y" not in names:
            raise InvalidInputError(f"InkML traceFormat declares no X and Y channels (only {', '.join(names)})")
        return names.index("X"), names.index("Y")
    return 0, 1


def _parse_trace(text: str, index: int, xy: tuple[int, int] = (0, 1)) -> np.ndarray:
    """One trace's points as (x, y); other channels (time, pressure) are read past, not kept."""
    ix, iy = xy
    points = []
    for item in text.split(","):
        values = item.split()
        if not values:
            continue
        if len(values) <= max(ix, iy) or not (_NUMBER_RE.match(values[ix]) and _NUMBER_RE.match(values[iy])):
            raise InvalidInputError(f"trace {index}: cannot read point {item.strip()[:40]!r}")
        points.append((float(values[ix]), float(values[iy])))
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    _check_coordinates(arr, f"trace {index}")
    return arr


def _check_coordinates(points: np.ndarray, where: str) -> None:
    """Refuse inf, NaN and coordinates beyond MAX_COORDINATE ("1e400" reads as inf)."""
    bad = ~(np.abs(points) <= MAX_COORDINATE)
    if bad.any():
        raise InvalidInputError(f"{where}: coordinate {points[bad][0]:g} out of range "
                                f"(ink coordinates lie between -{MAX_COORDINATE:,.0f} and {MAX_COORDINATE:,.0f})")


def strokes_from_lists(strokes: Strokes) -> list[np.ndarray]:
    """Validate a stroke list from the API or a drawing pad: [[(x, y), ...], ...].

    A point is exactly two numbers. A drawing pad has nothing else to send, and a third value
    could be time or depth: dropping it silently would read 3-D points as if they were writing.
    """
    out = []
    for i, stroke in enumerate(strokes):
        arr = _stroke_points(stroke, i)
        _check_coordinates(arr, f"stroke {i}")
        out.append(arr)
    if not out:
        raise InvalidInputError("no strokes to recognize")
    if sum(len(s) for s in out) > MAX_POINTS:
        raise InvalidInputError(f"more than {MAX_POINTS:,} points")
    return out


def _stroke_points(stroke: object, index: int) -> np.ndarray:
    """One stroke of [x, y] points (lists, tuples or an (N, 2) array of numbers) -> (N, 2) floats."""
    if isinstance(stroke, np.ndarray):
        stroke = stroke.tolist()
    if isinstance(stroke, (str, bytes)) or not isinstance(stroke, Sequence):
        raise InvalidInputError(f"stroke {index} is not a list of [x, y] points")
    if not stroke:
        raise InvalidInputError(f"stroke {index} has no points")
    for j, point in enumerate(stroke):
        if isinstance(point, np.ndarray):
            point = point.tolist()
        if (isinstance(point, (str, bytes)) or not isinstance(point, Sequence) or len(point) != 2
                or not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in point)):
            raise InvalidInputError(f"stroke {index}, point {j}: {str(point)[:40]} is not [x, y], two numbers")
    return np.asarray(stroke, dtype=np.float64).reshape(-1, 2)


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
