"""What page reading passes between its stages: boxes in pixels of the page image as given."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockType = Literal["text", "inline_formula", "display_formula", "figure", "table"]
FormulaKind = Literal["inline", "display"]
DetectionKind = Literal["inline", "display", "figure", "table"]


@dataclass(frozen=True)
class Box:
    """An axis-aligned box, x growing right and y down, in pixels of the page image."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def intersection(self, other: Box) -> float:
        ix = max(0.0, min(self.x1, other.x1) - max(self.x0, other.x0))
        iy = max(0.0, min(self.y1, other.y1) - max(self.y0, other.y0))
        return ix * iy

    def iou(self, other: Box) -> float:
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def as_list(self) -> list[float]:
        return [round(self.x0, 1), round(self.y0, 1), round(self.x1, 1), round(self.y1, 1)]


@dataclass(frozen=True)
class Detection:
    """A formula the detector found: where, which kind, how sure."""

    box: Box
    kind: DetectionKind
    score: float


@dataclass(frozen=True)
class Word:
    """A word of text with its box: from OCR, or from a PDF's text layer."""

    text: str
    box: Box
    confidence: float = 1.0


@dataclass(frozen=True)
class TextLine:
    """A line (or a stretch of a line) of text: what OCR's detector boxes and its recognizer reads."""

    text: str
    box: Box
    words: tuple[Word, ...] = ()
    confidence: float = 1.0


@dataclass
class Block:
    """One element of the page's result, in reading order."""

    type: BlockType
    box: Box
    text: str | None = None  # text blocks
    latex: str | None = None  # formula blocks
    confidence: float = 1.0

    def to_json(self) -> dict:
        out: dict = {"type": self.type, "bbox": self.box.as_list(), "confidence": round(self.confidence, 4)}
        if self.latex is not None:
            out["latex"] = self.latex
        if self.text is not None:
            out["text"] = self.text
        return out


@dataclass
class PageResult:
    """One page read: its blocks and Markdown, or the error that stopped it."""

    path: str
    page: int  # 1-based; 1 for an image
    width: int = 0
    height: int = 0
    dpi: float | None = None  # a PDF page's rendering resolution; None for an image
    blocks: list[Block] = field(default_factory=list)
    markdown: str = ""
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, for benchmarks

    def to_json(self) -> dict:
        if self.error is not None:
            return {"path": self.path, "page": self.page, "error": self.error}
        return {"path": self.path, "page": self.page, "width": self.width, "height": self.height, "dpi": self.dpi,
                "blocks": [b.to_json() for b in self.blocks], "markdown": self.markdown}


__all__ = ["Block", "BlockType", "Box", "Detection", "DetectionKind", "FormulaKind", "PageResult", "TextLine", "Word"]
