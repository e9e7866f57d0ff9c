"""Is this picture one formula, or text with formulas in it? `mathlens predict` asks before reading.

A screenshot of a sentence read as one formula gives nonsense. The page detector tells: when
most of the picture's ink lies outside the formulas it finds, in many pieces (letters, words),
the picture holds text. Then the one formula found is read alone, or, with several or none,
the user is pointed to `mathlens page`. Pictures the detector finds nothing in (handwriting,
which it never saw in training) are read as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from mathlens.errors import InvalidInputError
from mathlens.pages.detect import FormulaDetector
from mathlens.pages.types import Box

MIN_SCORE = 0.6  # a detection this sure counts
OUTSIDE_INK = 0.35  # share of the ink outside the formulas that makes a picture text
MIN_PIECES = 8  # pieces of ink outside the formulas: a word or more, not a stray mark


@dataclass(frozen=True)
class Verdict:
    """What to read: the whole picture (box None) or the one formula found in text."""

    box: Box | None
    note: str | None = None


def check_picture(image: Image.Image, detector: FormulaDetector) -> Verdict:
    """The picture's verdict; raises InvalidInputError for text with several formulas or none."""
    formulas = [d for d in detector.detect(image) if d.kind in ("inline", "display") and d.score >= MIN_SCORE]
    if not formulas:
        return Verdict(None)
    gray = np.asarray(image.convert("L"))
    ink = gray < 128
    total = int(ink.sum())
    if total == 0 or total > 0.5 * ink.size:  # blank, or light on dark (the detector reads dark on light)
        return Verdict(None)
    outside = ink.copy()
    for d in formulas:
        pad = 0.2 * d.box.height
        outside[max(0, int(d.box.y0 - pad)):int(d.box.y1 + pad) + 1, max(0, int(d.box.x0 - pad)):int(d.box.x1 + pad) + 1] = False
    if outside.sum() < OUTSIDE_INK * total or _pieces(outside) < MIN_PIECES:
        return Verdict(None)
    if len(formulas) == 1:
        return Verdict(formulas[0].box, "the picture holds text around a formula: the formula alone was read")
    raise InvalidInputError(f"this picture looks like text with {len(formulas)} formulas, not one formula: "
                            "read it with `mathlens page`")


def _pieces(mask: np.ndarray) -> int:
    import cv2

    count, _ = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return count - 1
