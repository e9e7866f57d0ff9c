"""Page metrics: formula detection against true boxes, and a page's Markdown against its source."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from mathlens.errors import LatexSyntaxError
from mathlens.pages.types import Box, Detection

IOUS = (0.5, 0.75)
_FORMULA = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.DOTALL)
_TAG = re.compile(r"\\tag\{[^{}]*\}")


def match_boxes(pred: Sequence[Box], truth: Sequence[Box], iou: float) -> int:
    """One-to-one matches at or above `iou`, the best overlaps first."""
    pairs = sorted(((t.iou(p), i, j) for i, t in enumerate(truth) for j, p in enumerate(pred)), reverse=True)
    used_t, used_p = set(), set()
    for overlap, i, j in pairs:
        if overlap < iou:
            break
        if i not in used_t and j not in used_p:
            used_t.add(i)
            used_p.add(j)
    return len(used_t)


@dataclass
class DetectionTally:
    """Counts over many pages, for inline, display and all formulas (matched whatever their kind)."""

    ious: tuple[float, ...] = IOUS
    counts: dict[tuple[str, float], list[int]] = field(default_factory=dict)  # -> [matched, truth, predicted]

    def add(self, pred: Sequence[Detection], truth: Sequence[Detection]) -> None:
        for kind in ("inline", "display", "all"):
            p = [d.box for d in pred if kind == "all" or d.kind == kind]
            t = [d.box for d in truth if kind == "all" or d.kind == kind]
            for iou in self.ious:
                row = self.counts.setdefault((kind, iou), [0, 0, 0])
                row[0] += match_boxes(p, t, iou)
                row[1] += len(t)
                row[2] += len(p)

    def scores(self) -> dict[str, dict[str, dict[str, float]]]:
        out: dict[str, dict[str, dict[str, float]]] = {}
        for (kind, iou), (matched, truth, predicted) in self.counts.items():
            precision = matched / predicted if predicted else 0.0
            recall = matched / truth if truth else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            out.setdefault(kind, {})[str(iou)] = {"precision": precision, "recall": recall, "f1": f1,
                                                  "truth": truth, "predicted": predicted}
        return out


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance over characters, a row of numpy at a time."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    row = np.arange(len(b) + 1, dtype=np.int64)
    for i, ch in enumerate(a, start=1):
        cost = (codes_b != ord(ch)).astype(np.int64)
        diag = row[:-1] + cost
        new = np.empty_like(row)
        new[0] = i
        new[1:] = np.minimum(diag, row[1:] + 1)
        # insertions run along the row: a running minimum of (value - index) restores them
        new = np.minimum.accumulate(new - np.arange(len(row))) + np.arange(len(row))
        row = new
    return int(row[-1])


def markdown_distance(pred: str, ref: str) -> float:
    """Normalized character edit distance (0 = the same), whitespace runs collapsed on both sides."""
    a, b = " ".join(pred.split()), " ".join(ref.split())
    if not a and not b:
        return 0.0
    return edit_distance(a, b) / max(len(a), len(b))


def extract_formulas(markdown: str) -> list[str]:
    """The LaTeX of every `$…$` and `$$…$$` in a page's Markdown, equation tags taken off."""
    return [_TAG.sub("", display or inline).strip() for display, inline in _FORMULA.findall(markdown)]


def formula_recall(pred_markdown: str, ref_formulas: Sequence[str], normalize: Callable[[str], list[str]]) -> float:
    """Share of the source's formulas that the Markdown holds exactly (both normalized), each used once."""
    if not ref_formulas:
        return 1.0
    found: dict[tuple[str, ...], int] = {}
    for latex in extract_formulas(pred_markdown):
        key = _normalized(latex, normalize)
        found[key] = found.get(key, 0) + 1
    right = 0
    for latex in ref_formulas:
        key = _normalized(latex, normalize)
        if found.get(key, 0) > 0:
            found[key] -= 1
            right += 1
    return right / len(ref_formulas)


def _normalized(latex: str, normalize: Callable[[str], list[str]]) -> tuple[str, ...]:
    try:
        return tuple(normalize(latex))
    except LatexSyntaxError:
        return tuple(latex.split())
