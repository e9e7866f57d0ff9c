"""Text on a page: rapidocr's PP-OCR detector and recognizer (ONNX, shipped in its wheel, offline).

Formulas are painted over with the paper's colour before detection: OCR reads them as garbage
text otherwise, and another stage reads them properly. rapidocr's parts are driven directly, for
speed on a CPU: no angle classifier (pages are upright), the detector run on the page shrunk to
`det_max_side`, crops narrowed and recognized in batches of similar width. The recognizer is most
of the time: it grows with the length of the text, about 75 µs of CPU per input column (a
character is some 18 columns).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mathlens.errors import MathlensError
from mathlens.pages.types import Box, TextLine, Word

logger = logging.getLogger(__name__)

# Long side of the image the detector sees: its time grows with the pixels, and the recognizer
# reads full-size crops anyway. On 10 DocBank pages (~200 dpi) 960 found the words 1280 did.
DET_MAX_SIDE = 960
MIN_TEXT_SCORE = 0.5  # rapidocr's default: lines read with less confidence are mostly noise
MASK_RING_PX = 3  # the band around a masked box whose median colour paints it
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
REC_HEIGHT = 48  # the recognizer's input height (PP-OCRv6 rec_img_shape)
REC_MIN_WIDTH = 320  # and its narrowest input, as rapidocr pads it
# Crops are recognized in batches of similar width: a batch's cost grows with its padded columns,
# and the recognizer's output (18,710 classes a time step) thrashes the cache in big batches
# (16 crops of 1440 columns: 3x the time a column of 6 such crops).
REC_BATCH_COLUMNS = 8192
REC_MAX_BATCH = 16
# The recognizer's time grows with the columns it reads: crops are narrowed to 3/4 of their width
# first (10 DocBank pages: 15-20% less time, the same word recall; 0.6 loses up to 3 points).
REC_SQUASH = 0.75
DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"


@dataclass(frozen=True)
class _Models:
    """rapidocr's detector and recognizer sessions, and its pre- and post-processing, loaded once."""

    det: Any  # onnxruntime.InferenceSession
    rec: Any
    det_pre: Any  # rapidocr.ch_ppocr_det.utils.DetPreProcess
    det_post: Any  # DBPostProcess
    decode: Any  # rapidocr.ch_ppocr_rec.utils.CTCLabelDecode
    word_boxes: Any  # rapidocr.cal_rec_boxes.CalRecBoxes


@dataclass(frozen=True)
class _Read:
    """What the recognizer made of one crop."""

    text: str
    score: float
    info: Any  # rapidocr's WordInfo: the time step of each character, for word boxes


class TextReader:
    """Finds and reads the lines of text on a page; the models load on first use.

    `num_threads` is onnxruntime's intra-op thread count for both models.
    """

    def __init__(self, num_threads: int = 2, det_max_side: int = DET_MAX_SIDE,
                 min_score: float = MIN_TEXT_SCORE) -> None:
        self.num_threads = num_threads
        self.det_max_side = det_max_side
        self.min_score = min_score
        self._models: _Models | None = None

    def load(self) -> None:
        """Load both models now (otherwise the first `read` does), e.g. to time them apart."""
        self._get_models()

    def read(self, image: Image.Image, mask: Sequence[Box] = ()) -> list[TextLine]:
        """The text lines of `image`, top to bottom, with `mask` boxes (formulas) painted out first."""
        models = self._get_models()
        rgb = paint_boxes(np.asarray(image.convert("RGB")), mask)
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # PaddleOCR's models were trained on cv2's BGR
        quads = _detect(models, bgr)
        if len(quads) == 0:
            return []
        from rapidocr.utils.process_img import get_rotate_crop_image

        crops = [get_rotate_crop_image(bgr, q.copy()) for q in quads]
        lines: list[TextLine] = []
        for quad, crop, read in zip(quads, crops, _recognize(models, crops)):
            if not read.text.strip() or read.score < self.min_score:
                continue
            words = _line_words(models.word_boxes, crop, quad, read.text, read.score, read.info)
            lines.append(TextLine(text=" ".join(read.text.split()), box=_quad_box(quad), words=tuple(words),
                                  confidence=read.score))
        return lines  # the detector's order: top to bottom, left to right within a line

    def _get_models(self) -> _Models:
        if self._models is None:
            self._models = _load_models(self.num_threads, self.det_max_side)
        return self._models


def paint_boxes(rgb: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """A copy of `rgb` (H, W, 3) with each box filled with the median colour of a thin ring around it.

    The ring's colour is the paper the box sits on (white, or a shaded theorem box), so the painted
    area reads as empty page to the text detector.
    """
    out = rgb.copy()
    h, w = out.shape[:2]
    for box in boxes:
        x0, y0 = max(0, int(np.floor(box.x0))), max(0, int(np.floor(box.y0)))
        x1, y1 = min(w, int(np.ceil(box.x1))), min(h, int(np.ceil(box.y1)))
        if x1 <= x0 or y1 <= y0:
            continue
        rx0, ry0 = max(0, x0 - MASK_RING_PX), max(0, y0 - MASK_RING_PX)
        rx1, ry1 = min(w, x1 + MASK_RING_PX), min(h, y1 + MASK_RING_PX)
        ring = np.ones((ry1 - ry0, rx1 - rx0), dtype=bool)
        ring[y0 - ry0:y1 - ry0, x0 - rx0:x1 - rx0] = False
        pixels = out[ry0:ry1, rx0:rx1][ring]
        colour = np.median(pixels, axis=0) if len(pixels) else np.median(out.reshape(-1, 3), axis=0)
        out[y0:y1, x0:x1] = colour.astype(out.dtype)
    return out


def _load_models(num_threads: int, det_max_side: int) -> _Models:
    try:
        import onnxruntime as ort
        import rapidocr
        from rapidocr.cal_rec_boxes import CalRecBoxes
        from rapidocr.ch_ppocr_det.utils import DBPostProcess, DetPreProcess
        from rapidocr.ch_ppocr_rec.utils import CTCLabelDecode
    except ImportError:
        raise MathlensError("reading text on pages needs the page extra: pip install 'mathlens[page]'") from None
    model_dir = Path(rapidocr.__file__).parent / "models"
    missing = [name for name in (DET_MODEL, REC_MODEL) if not (model_dir / name).is_file()]
    if missing:
        raise MathlensError(f"rapidocr {getattr(rapidocr, '__version__', '')} lacks {', '.join(missing)} in "
                            f"{model_dir}: pip install 'mathlens[page]' installs the version that ships them")
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Threads that sleep between the many small ops: a page shares its CPUs with formula reading.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_cpu_mem_arena = False  # text crops of every width: memory stays flat over pages
    det = ort.InferenceSession(str(model_dir / DET_MODEL), options, providers=["CPUExecutionProvider"])
    rec = ort.InferenceSession(str(model_dir / REC_MODEL), options, providers=["CPUExecutionProvider"])
    characters = rec.get_modelmeta().custom_metadata_map["character"].splitlines()
    # rapidocr's detector defaults (config.yaml), with the page shrunk to det_max_side.
    return _Models(det=det, rec=rec,
                   det_pre=DetPreProcess(det_max_side, "max", [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
                   det_post=DBPostProcess(thresh=0.3, box_thresh=0.5, max_candidates=1000, unclip_ratio=1.6,
                                          score_mode="fast", use_dilation=True),
                   decode=CTCLabelDecode(character=characters), word_boxes=CalRecBoxes())


def _detect(models: _Models, bgr: np.ndarray) -> np.ndarray:
    """Text-line quadrilaterals (N, 4, 2) in pixels of `bgr`, clockwise from the top left, in reading order."""
    from rapidocr.ch_ppocr_det import TextDetector

    h, w = bgr.shape[:2]
    if min(h, w) < 32:  # the detector's stride: pad a thin strip rather than lose it
        bgr = np.pad(bgr, ((0, max(0, 32 - h)), (0, max(0, 32 - w)), (0, 0)), mode="edge")
    batch = models.det_pre(bgr)
    if batch is None:
        return np.zeros((0, 4, 2), dtype=np.float32)
    preds = models.det.run(None, {models.det.get_inputs()[0].name: batch})[0]
    boxes, _ = models.det_post(preds, bgr.shape[:2])
    if len(boxes) == 0:
        return np.zeros((0, 4, 2), dtype=np.float32)
    boxes = TextDetector.sorted_boxes(boxes).astype(np.float32)
    boxes[:, :, 0] = np.clip(boxes[:, :, 0], 0, w)
    boxes[:, :, 1] = np.clip(boxes[:, :, 1], 0, h)
    return boxes


def _recognize(models: _Models, crops: Sequence[np.ndarray]) -> list[_Read]:
    """Read each crop (BGR); crops of similar width share a batch."""
    import cv2

    widths = [max(1, int(np.ceil(REC_HEIGHT * REC_SQUASH * c.shape[1] / max(1, c.shape[0])))) for c in crops]
    out: list[_Read | None] = [None] * len(crops)
    name = models.rec.get_inputs()[0].name
    for batch in _width_batches(widths):
        padded = max(REC_MIN_WIDTH, max(widths[i] for i in batch))
        x = np.zeros((len(batch), 3, REC_HEIGHT, padded), dtype=np.float32)  # 0 is mid-grey once normalized
        for row, i in enumerate(batch):
            resized = cv2.resize(np.ascontiguousarray(crops[i]), (min(widths[i], padded), REC_HEIGHT)).astype(np.float32)
            x[row, :, :, :resized.shape[1]] = resized.transpose(2, 0, 1) / 127.5 - 1.0
        preds = models.rec.run(None, {name: x})[0]  # (B, T, classes)
        results, infos = models.decode(preds, True, wh_ratio_list=[widths[i] / REC_HEIGHT for i in batch],
                                       max_wh_ratio=padded / REC_HEIGHT)
        for i, (text, score), info in zip(batch, results, infos):
            out[i] = _Read(text, float(score), info)
    return [r if r is not None else _Read("", 0.0, None) for r in out]


def _width_batches(widths: Sequence[int]) -> list[list[int]]:
    """Indices grouped narrowest first, each group's padded size within REC_BATCH_COLUMNS."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(widths)), key=lambda k: widths[k]):
        padded = max(REC_MIN_WIDTH, widths[i])  # sorted: the newest is the widest
        if current and ((len(current) + 1) * padded > REC_BATCH_COLUMNS or len(current) >= REC_MAX_BATCH):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _quad_box(quad: np.ndarray) -> Box:
    return Box(float(quad[:, 0].min()), float(quad[:, 1].min()), float(quad[:, 0].max()), float(quad[:, 1].max()))


def _line_words(word_boxes: Any, crop: np.ndarray, quad: np.ndarray, text: str, score: float,
                info: Any) -> list[Word]:
    """The words of one line with their boxes on the page (`text`: the recognizer's raw string).

    rapidocr places each word from the recognizer's time steps; it also splits a word wherever
    two letters are far apart, so for CJK-free text its pieces are joined back into the
    space-separated words of `text`. Word confidence is the mean over the word's characters.
    """
    pieces = _word_pieces(word_boxes, crop, quad, text, info)
    confs = _char_confidences(text, info, score)
    if _CJK.search(text):
        return [Word(t, b, c) for (t, b), c in zip(pieces, _piece_confidences(pieces, confs, score))]
    tokens = text.split()
    boxes = _join_pieces(pieces, tokens) or _split_evenly(_quad_box(quad), text, tokens)
    words, start = [], 0
    for token, box in zip(tokens, boxes):
        conf = confs[start:start + len(token)]
        start += len(token)
        words.append(Word(token, box, float(np.mean(conf)) if conf else score))
    return words


def _word_pieces(word_boxes: Any, crop: np.ndarray, quad: np.ndarray, text: str, info: Any) -> list[tuple[str, Box]]:
    if info is None or not getattr(info, "words", None) or getattr(info, "line_txt_len", 0) == 0:
        return []
    h, w = crop.shape[:2]
    img_box = np.array([[0, 0], [w, 0], [w, h], [0, h]])
    try:
        contents, boxes, _ = word_boxes.cal_ocr_word_box(text, img_box, info)
        boxes = word_boxes.adjust_box_overlap([[list(p) for p in b] for b in boxes])
        boxes = word_boxes.reverse_rotate_crop_image(quad.copy(), boxes, word_boxes.get_box_direction(quad))
    except (ValueError, IndexError, ZeroDivisionError) as err:  # geometry of a degenerate crop
        logger.debug("word boxes failed for %r: %s", text, err)
        return []
    return [(c, _quad_box(np.asarray(b, dtype=np.float32))) for c, b in zip(contents, boxes)]


def _char_confidences(text: str, info: Any, score: float) -> list[float]:
    """Per non-space character of `text`, the recognizer's confidence (the line's when unknown)."""
    confs = list(getattr(info, "confs", None) or [])
    if len(confs) != len(text):  # text was stripped, or a dictionary entry of several characters
        return [score] * len(text.replace(" ", ""))
    return [float(c) for ch, c in zip(text, confs) if not ch.isspace()]


def _piece_confidences(pieces: list[tuple[str, Box]], confs: list[float], score: float) -> list[float]:
    out, start = [], 0
    for piece, _ in pieces:
        part = confs[start:start + len(piece)]
        start += len(piece)
        out.append(float(np.mean(part)) if part else score)
    return out


def _join_pieces(pieces: list[tuple[str, Box]], tokens: list[str]) -> list[Box] | None:
    """One box per token, each the union of the pieces that spell it; None if they do not."""
    boxes, i = [], 0
    for token in tokens:
        spelled, box = "", None
        while i < len(pieces) and len(spelled) < len(token):
            spelled += pieces[i][0]
            box = _union(box, pieces[i][1])
            i += 1
        if spelled != token or box is None:
            return None
        boxes.append(box)
    return boxes if i == len(pieces) else None


def _split_evenly(line: Box, text: str, tokens: list[str]) -> list[Box]:
    """Token boxes by character count along the line: the fallback when word geometry is missing."""
    per_char = line.width / max(1, len(text))
    boxes, pos = [], 0
    for token in tokens:
        start = text.index(token, pos)
        pos = start + len(token)
        boxes.append(Box(line.x0 + start * per_char, line.y0, line.x0 + pos * per_char, line.y1))
    return boxes


def _union(a: Box | None, b: Box) -> Box:
    if a is None:
        return b
    return Box(min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1))


__all__ = ["TextReader", "paint_boxes"]
