"""Find the formulas (and figure and table blocks) of a page with the shipped ONNX detector.

Runs on onnxruntime + numpy (+ OpenCV's connected components, which the page extra brings with
rapidocr). The page is read in gray at a working size (its longer side at most `max_side`
pixels), and the boxes are given back in pixels of the page as it was given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image

from mathlens.errors import MathlensError
from mathlens.pages.types import Box, Detection

WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
CLASSES = ("inline", "display", "figure", "table")
STRIDE = 2  # output cells per input pixel, each way
ALIGN = 32  # the network's input sides are multiples of this
INK_LEVEL = 160  # gray below this is ink, for fitting boxes to it


@dataclass(frozen=True)
class DetectorSettings:
    """What travels with the weights in `detector.json`."""

    max_side: int = 1280
    edge_scale: float = 16.0
    threshold: float = 0.5
    min_cells: int = 3
    merge_iou: float = 0.4
    shrink: float = 0.2  # share of a box's smaller side cut from each edge for its map cells in training
    # Per class, the share of each edge taken from the map region's own extent (grown back by
    # `shrink`) rather than from the regressed distances: on the synthetic validation pages an even
    # blend lifts inline F1@0.75 from 0.43 to 0.52; display boxes are best regressed.
    region_share: tuple[float, ...] = (0.5, 0.0, 0.0, 0.0)
    # Inline edges that cut a glyph cluster move to its nearer end; clusters are ink runs split by
    # gaps wider than this share of the page's median inline height (0.15: inline F1@0.75 0.52 -> 0.64).
    glyph_gap: float = 0.15
    # A display box covering this share of an inline box (of the smaller of the two) is dropped: a
    # display formula stands alone on its line (display F1@0.5 0.87 -> 0.90 on validation pages).
    display_over_inline: float = 0.3
    classes: tuple[str, ...] = CLASSES

    @classmethod
    def load(cls, path: Path) -> DetectorSettings:
        data = json.loads(path.read_text())
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in cls.__dataclass_fields__})


def working_scale(width: int, height: int, max_side: int) -> float:
    """Pages are shrunk so that their longer side is `max_side`; smaller pictures keep their size."""
    return min(1.0, max_side / max(width, height))


def to_input(gray: np.ndarray) -> np.ndarray:
    """(H, W) uint8 gray -> (1, 1, H', W') float ink, padded with blank paper to multiples of 32."""
    h, w = gray.shape
    padded = np.zeros((1, 1, -(-h // ALIGN) * ALIGN, -(-w // ALIGN) * ALIGN), dtype=np.float32)
    padded[0, 0, :h, :w] = 1.0 - gray.astype(np.float32) / 255.0
    return padded


def decode(output: np.ndarray, settings: DetectorSettings, size: tuple[int, int]) -> list[tuple[int, Box, float]]:
    """(C + 4, h, w) network output -> (class, box in input pixels, score) for each connected region."""
    import cv2

    num_classes = len(settings.classes)
    prob = 1.0 / (1.0 + np.exp(-output[:num_classes]))
    edges = np.exp(output[num_classes:]) * settings.edge_scale  # left, top, right, bottom in input pixels
    h, w = prob.shape[1:]
    cx = (np.arange(w, dtype=np.float32) + 0.5) * STRIDE
    cy = (np.arange(h, dtype=np.float32) + 0.5) * STRIDE
    found = []
    for c in range(num_classes):
        mask = (prob[c] > settings.threshold).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        for region in range(1, count):
            if stats[region, cv2.CC_STAT_AREA] < settings.min_cells:
                continue
            ys, xs = np.nonzero(labels == region)
            weight = prob[c, ys, xs]
            regressed = np.array([np.average(cx[xs] - edges[0, ys, xs], weights=weight),
                                  np.average(cy[ys] - edges[1, ys, xs], weights=weight),
                                  np.average(cx[xs] + edges[2, ys, xs], weights=weight),
                                  np.average(cy[ys] + edges[3, ys, xs], weights=weight)])
            share = settings.region_share[c] if c < len(settings.region_share) else 0.0
            x0, y0, x1, y1 = (1 - share) * regressed + share * region_extent(xs, ys, settings.shrink)
            box = Box(max(0.0, float(x0)), max(0.0, float(y0)), min(size[0], float(x1)), min(size[1], float(y1)))
            found.append((c, box, float(weight.mean()), float(weight.sum())))
    return merge_duplicates(found, settings.merge_iou)


def region_extent(xs: np.ndarray, ys: np.ndarray, shrink: float) -> np.ndarray:
    """The box a map region stands for: its cells' extent grown back by what training cut off."""
    extent = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=np.float64) * STRIDE
    grow = shrink * min(extent[2] - extent[0], extent[3] - extent[1]) / (1 - 2 * shrink)
    return extent + np.array([-grow, -grow, grow, grow])


def merge_duplicates(found: list[tuple[int, Box, float, float]], iou: float) -> list[tuple[int, Box, float]]:
    """One box per object: a map region split in pieces gives boxes that each cover the whole object.

    Boxes overlapping a heavier one by `iou` or more join it (same class: weighted average of
    the edges; another class: dropped, the heavier one's class wins).
    """
    kept: list[list] = []
    for c, box, score, mass in sorted(found, key=lambda f: -f[3]):
        for k in kept:
            if k[1].iou(box) >= iou:
                if k[0] == c:
                    total = k[3] + mass
                    k[1] = Box(*((a * k[3] + b * mass) / total for a, b in zip(
                        (k[1].x0, k[1].y0, k[1].x1, k[1].y1), (box.x0, box.y0, box.x1, box.y1))))
                    k[2], k[3] = (k[2] * k[3] + score * mass) / total, total
                break
        else:
            kept.append([c, box, score, mass])
    return [(c, box, score) for c, box, score, _ in kept]


def snap_to_ink(box: Box, ink: np.ndarray) -> Box:
    """The box shrunk to the ink inside it: the network's edges run a few pixels wide, the ink's do not."""
    x0, y0 = max(0, int(box.x0)), max(0, int(box.y0))
    x1, y1 = min(ink.shape[1], int(np.ceil(box.x1))), min(ink.shape[0], int(np.ceil(box.y1)))
    inside = ink[y0:y1, x0:x1]
    cols, rows = np.nonzero(inside.any(axis=0))[0], np.nonzero(inside.any(axis=1))[0]
    if cols.size == 0:
        return box
    return Box(float(x0 + cols[0]), float(y0 + rows[0]), float(x0 + cols[-1] + 1), float(y0 + rows[-1] + 1))


def glyph_clusters(inked: np.ndarray, gap: float) -> list[tuple[int, int]]:
    """[start, end) runs of inked columns, joined across gaps no wider than `gap`."""
    cols = np.nonzero(inked)[0]
    if cols.size == 0:
        return []
    breaks = np.nonzero(np.diff(cols) > gap)[0]
    return list(zip(np.r_[cols[0], cols[breaks + 1]].tolist(), np.r_[cols[breaks] + 1, cols[-1] + 1].tolist()))


def fit_to_glyphs(box: Box, ink: np.ndarray, gap: float) -> Box:
    """Left and right edges moved off the glyphs they cut: a cluster mostly inside the box joins it,
    one mostly outside leaves it. Inline edges are the network's weakest guess, and an edge in the
    middle of a word is never right."""
    x0, x1 = round(box.x0), round(box.x1)
    for start, end in glyph_clusters(ink[int(box.y0):int(np.ceil(box.y1))].any(axis=0), gap):
        if start < x0 < end:
            x0 = start if min(end, x1) - x0 > x0 - start else end
        if start < x1 < end:
            x1 = end if x1 - max(start, x0) > end - x1 else start
    return Box(float(x0), box.y0, float(x1), box.y1) if x1 - x0 >= 2 else box


def drop_displays_over_inline(found: list[Detection], share: float) -> list[Detection]:
    """Display boxes that overlap an inline one: the network's guess for a long inline formula."""
    inline = [d.box for d in found if d.kind == "inline"]

    def overlaps(box: Box) -> bool:
        return any(box.intersection(b) >= share * min(box.area, b.area) for b in inline)

    return [d for d in found if d.kind != "display" or not overlaps(d.box)]


class FormulaDetector:
    """`FormulaDetector().detect(image)` -> formulas (inline, display) and figure/table blocks."""

    def __init__(self, model_dir: Path | None = None, num_threads: int = 2) -> None:
        self.model_dir = Path(model_dir) if model_dir else WEIGHTS
        self.num_threads = num_threads
        path = self.model_dir / "detector.json"
        if not path.exists():
            raise MathlensError(f"no formula detector in {self.model_dir} (detector.json missing)")
        self.settings = DetectorSettings.load(path)

    @cached_property
    def session(self):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.num_threads
        options.inter_op_num_threads = 1
        return ort.InferenceSession(str(self.model_dir / "detector.onnx"), options, providers=["CPUExecutionProvider"])

    def detect(self, image: Image.Image) -> list[Detection]:
        """All objects found on the page, boxes in the page's own pixels."""
        scale = working_scale(*image.size, self.settings.max_side)
        page = image.convert("L")
        gray = page if scale >= 1.0 else page.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BOX)
        output = self.session.run(None, {"image": to_input(np.asarray(gray))})[0][0]
        found = decode(output, self.settings, gray.size)
        ink = np.asarray(page) < INK_LEVEL
        found = [Detection(snap_to_ink(Box(b.x0 / scale, b.y0 / scale, b.x1 / scale, b.y1 / scale), ink),
                           self.settings.classes[c], s) for c, b, s in found]
        heights = [d.box.height for d in found if d.kind == "inline"]
        if heights and self.settings.glyph_gap > 0:
            gap = max(2.0, self.settings.glyph_gap * float(np.median(heights)))
            found = [Detection(snap_to_ink(fit_to_glyphs(d.box, ink, gap), ink), d.kind, d.score)
                     if d.kind == "inline" else d for d in found]
        return drop_displays_over_inline(found, self.settings.display_over_inline)
