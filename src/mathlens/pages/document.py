"""Inputs as pages: an image (a multi-frame TIFF is several pages) or a PDF rendered page by page.

A born-digital PDF page also brings its text layer as words with boxes in pixels of the rendered
image, so its text need not be OCRed. A whole input that cannot be opened raises
InvalidInputError; one page that cannot be rendered is a PageError and the others go on.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mathlens.errors import InvalidInputError, MathlensError
from mathlens.inference.preprocess import MAX_INPUT_PIXELS, load_image
from mathlens.pages.types import Box, Word

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF"
MIN_TEXT_LAYER_CHARS = 20  # fewer non-space characters: a scan, perhaps with a stray page number
WORD_GAP_EM = 0.4  # a gap wider than this (in font sizes) splits a word even without a space
LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st",
             "\ufb06": "st"}
# PDFium is not thread-safe: every call into it holds this lock (never across a yield).
_PDFIUM_LOCK = threading.RLock()


@dataclass
class PageImage:
    """One page to read: its pixels and, for a born-digital PDF page, its text layer."""

    path: str
    page: int  # 1-based
    image: Image.Image  # RGB
    dpi: float | None = None  # the rendering resolution of a PDF page; None for an image
    words: list[Word] | None = None  # a PDF page's text layer in pixels of `image`; None: OCR it


@dataclass
class PageError:
    """One page that could not be opened; the input's other pages go on."""

    path: str
    page: int
    error: str


def is_pdf(data: bytes) -> bool:
    """Whether `data` is a PDF, by its magic bytes (a PDF may carry junk before them, within 1 KiB)."""
    return PDF_MAGIC in data[:1024]


def parse_page_range(spec: str, num_pages: int) -> list[int]:
    """1-based page numbers from "2-5", "1,3,7-9" or "4-" (to the end), ascending and without repeats."""
    pages: set[int] = set()
    parts = [p.strip() for p in spec.split(",")]
    if not spec.strip() or any(not p for p in parts):
        raise InvalidInputError(f"bad page range {spec!r}: expected e.g. 2-5, 1,3,7-9 or 4-")
    for part in parts:
        match = re.fullmatch(r"(\d+)(?:\s*(-)\s*(\d*))?", part)
        if match is None:
            raise InvalidInputError(f"bad page range {spec!r}: {part!r} is not a page or a range like 2-5")
        first = int(match.group(1))
        last = first if match.group(2) is None else int(match.group(3)) if match.group(3) else num_pages
        if first < 1 or last < first:
            raise InvalidInputError(f"bad page range {spec!r}: {part!r} is empty (pages count from 1)")
        if last > num_pages:
            raise InvalidInputError(f"page {last} is out of range: the input has {num_pages} "
                                    f"page{'s' if num_pages != 1 else ''}")
        pages.update(range(first, last + 1))
    return sorted(pages)


def iter_pages(source: str | Path | bytes, *, pages: str | None = None, dpi: float = 150, max_pages: int = 200,
               name: str | None = None) -> Iterator[PageImage | PageError]:
    """The pages of an image or PDF file (or its bytes), in order.

    `pages` selects some ("1,3,7-9"); `max_pages` guards against reading a whole book by accident.
    `name` is the path reported for bytes (default "-").
    """
    data, path = _read_source(source, name)
    if dpi <= 0:
        raise InvalidInputError(f"dpi must be positive, got {dpi}")
    if is_pdf(data):
        yield from _pdf_pages(data, path, pages, dpi, max_pages)
    else:
        yield from _image_pages(data, path, pages, max_pages)


def _read_source(source: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray)):
        data, path = bytes(source), name or "-"
    else:
        file = Path(source)
        if not file.is_file():
            raise InvalidInputError(f"no such file: {file}")
        data, path = file.read_bytes(), name or str(source)
    if not data:
        raise InvalidInputError(f"{path}: empty file")
    return data, path


def _select(num_pages: int, pages: str | None, max_pages: int, what: str, path: str) -> list[int]:
    if pages is None:
        if num_pages > max_pages:
            raise InvalidInputError(f"{path}: the {what} has {num_pages} pages, more than the limit of {max_pages}: "
                                    f"choose some with --pages (e.g. --pages 1-{max_pages}) or raise --max-pages")
        return list(range(1, num_pages + 1))
    try:
        selected = parse_page_range(pages, num_pages)
    except InvalidInputError as err:
        raise InvalidInputError(f"{path}: {err}") from None
    if len(selected) > max_pages:
        raise InvalidInputError(f"{path}: {len(selected)} pages selected, more than the limit of {max_pages}: "
                                f"select fewer with --pages or raise --max-pages")
    return selected


# ---- images ------------------------------------------------------------------------------------


def _image_pages(data: bytes, path: str, pages: str | None, max_pages: int) -> Iterator[PageImage | PageError]:
    try:
        first = load_image(data)  # format, size and EXIF orientation checked as for formulas
    except InvalidInputError as err:
        unknown = "not a recognised image format" in str(err)
        raise InvalidInputError(f"{path}: not an image or PDF" if unknown else f"{path}: {err}") from None
    with Image.open(io.BytesIO(data)) as image:
        frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1  # GIF/WebP frames are not pages
        for number in _select(frames, pages, max_pages, "TIFF" if frames > 1 else "image", path):
            if number == 1:
                yield PageImage(path, 1, first.convert("RGB"))
                continue
            try:
                image.seek(number - 1)
                width, height = image.size
                if width * height > MAX_INPUT_PIXELS:
                    raise InvalidInputError(f"image too large: {width}x{height} pixels (limit {MAX_INPUT_PIXELS:,})")
                yield PageImage(path, number, image.convert("RGB"))
            except (InvalidInputError, OSError, ValueError, SyntaxError) as err:
                yield PageError(path, number, f"cannot decode frame {number}: {err}")


# ---- PDFs --------------------------------------------------------------------------------------


def _pdfium() -> Any:
    try:
        import pypdfium2
    except ImportError:
        raise MathlensError("reading PDFs needs the page extra: pip install 'mathlens[page]'") from None
    return pypdfium2


def _pdf_pages(data: bytes, path: str, pages: str | None, dpi: float,
               max_pages: int) -> Iterator[PageImage | PageError]:
    pdfium = _pdfium()
    pdf = _open_pdf(pdfium, data, path)
    try:
        with _PDFIUM_LOCK:
            num_pages = len(pdf)
        for number in _select(num_pages, pages, max_pages, "PDF", path):
            with _PDFIUM_LOCK:
                result = _pdf_page(pdfium, pdf, path, number, dpi)
            yield result
    finally:
        with _PDFIUM_LOCK:
            pdf.close()


def _open_pdf(pdfium: Any, data: bytes, path: str) -> Any:
    import pypdfium2.raw as raw

    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as err:
            if raw.FPDF_GetLastError() == raw.FPDF_ERR_PASSWORD or "password" in str(err).lower():
                raise InvalidInputError(f"{path}: the PDF is encrypted (password-protected); "
                                        "remove the password first, e.g. qpdf --decrypt") from None
            raise InvalidInputError(f"{path}: corrupt or unreadable PDF ({err})") from None
        try:
            pdf.init_forms()  # so filled-in form fields are drawn
        except pdfium.PdfiumError as err:
            logger.debug("%s: no forms drawn: %s", path, err)
    return pdf


def _pdf_page(pdfium: Any, pdf: Any, path: str, number: int, dpi: float) -> PageImage | PageError:
    """Render page `number` (1-based) at `dpi` and read its text layer; a failure is this page's error."""
    scale = dpi / 72.0
    page = None
    try:
        page = pdf[number - 1]
        width, height = page.get_size()
        pixels = np.ceil(width * scale) * np.ceil(height * scale)
        if pixels > MAX_INPUT_PIXELS:
            return PageError(path, number, f"page too large: at {dpi:g} dpi it would be {int(np.ceil(width * scale))}x"
                                           f"{int(np.ceil(height * scale))} pixels (limit {MAX_INPUT_PIXELS:,}); "
                                           f"use a lower --dpi")
        image = page.render(scale=scale).to_pil().convert("RGB")
        return PageImage(path, number, image, dpi, _text_layer(pdfium, page, image.size))
    except (pdfium.PdfiumError, ValueError, OSError, MemoryError) as err:
        return PageError(path, number, f"cannot render page {number}: {err}")
    finally:
        if page is not None:
            page.close()


def _text_layer(pdfium: Any, page: Any, size: tuple[int, int]) -> list[Word] | None:
    """The page's text as words with boxes in pixels of its rendering of `size`; None without one."""
    import pypdfium2.raw as raw

    try:
        textpage = page.get_textpage()
    except pdfium.PdfiumError as err:
        logger.debug("no text page: %s", err)
        return None
    try:
        chars = _chars(raw, textpage)
    finally:
        textpage.close()
    text_chars = [c for c in chars if not c.text.isspace()]
    if len(text_chars) < MIN_TEXT_LAYER_CHARS:
        return None
    if sum(c.unmapped for c in text_chars) > len(text_chars) / 2:  # glyphs without Unicode: gibberish text
        return None
    return _group_words(chars, _page_to_pixels(raw, page, size))


@dataclass(frozen=True)
class _Char:
    """One character of a PDF's text layer, its boxes in PDF points (left, bottom, right, top; y up)."""

    text: str
    box: tuple[float, float, float, float]  # the glyph's ink
    line: tuple[float, float]  # bottom and top of the font's whole height: equal along a line
    size: float  # font size in points
    unmapped: bool  # the font gives no Unicode for the glyph


_SPACE = _Char(" ", (0.0, 0.0, 0.0, 0.0), (0.0, 0.0), 0.0, False)


def _chars(raw: Any, textpage: Any) -> list[_Char]:
    import ctypes

    out = []
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    loose = raw.FS_RECTF()
    for i in range(raw.FPDFText_CountChars(textpage)):
        text = _char_text(raw.FPDFText_GetUnicode(textpage, i))
        if not text:
            continue
        if (text.isspace() or not raw.FPDFText_GetCharBox(textpage, i, left, right, bottom, top)
                or not raw.FPDFText_GetLooseCharBox(textpage, i, loose)):
            out.append(_SPACE)
            continue
        out.append(_Char(text, (left.value, bottom.value, right.value, top.value), (loose.bottom, loose.top),
                         float(raw.FPDFText_GetFontSize(textpage, i)),
                         raw.FPDFText_HasUnicodeMapError(textpage, i) == 1))
    return out


def _char_text(code: int) -> str:
    """The text of one PDFium character: ligatures spelled out, controls dropped, breaks as spaces."""
    if code in (0, 0xFFFE, 0xFFFF):
        return ""
    if code == 2:  # PDFium's mark for a hyphen that ends a line
        return "-"
    char = chr(code)
    if char in "\r\n\t\f\v":
        return " "
    if code < 32 or code == 0xAD:  # other controls; a soft hyphen is invisible
        return ""
    return LIGATURES.get(char, char)


def _page_to_pixels(raw: Any, page: Any, size: tuple[int, int]) -> np.ndarray:
    """The affine map (2, 3) from PDF points to pixels of the page rendered at `size`.

    PDFium's own PageToDevice knows the crop box and /Rotate; it rounds to whole pixels, so it maps
    a 100x larger device and the map is scaled back.
    """
    import ctypes

    big_w, big_h = size[0] * 100, size[1] * 100
    x0, y0, x1, y1 = page.get_cropbox()
    dx, dy = ctypes.c_int(), ctypes.c_int()
    points = [(x0, y0), (x1, y0), (x0, y1)]
    device = []
    for px, py in points:
        raw.FPDF_PageToDevice(page, 0, 0, big_w, big_h, 0, px, py, dx, dy)
        device.append((dx.value / 100.0, dy.value / 100.0))
    src = np.array([[px, py, 1.0] for px, py in points])
    return np.linalg.solve(src, np.array(device)).T  # rows: x' and y' as a·(x, y, 1)


def _group_words(chars: Sequence[_Char], to_pixels: np.ndarray) -> list[Word]:
    """Characters joined into words: split at spaces, at wide gaps and where the line changes."""
    words: list[Word] = []
    current: list[_Char] = []

    def flush() -> None:
        if current:
            words.append(Word("".join(c.text for c in current), _pixel_box(current, to_pixels)))
            current.clear()

    for char in chars:
        if char.text.isspace():
            flush()
            continue
        if current and _breaks(current[-1], char):
            flush()
        current.append(char)
    flush()
    return words


def _breaks(prev: _Char, char: _Char) -> bool:
    """Whether `char` cannot continue the word `prev` ends: another line, a step back, or a wide gap.

    Lines are told apart by the fonts' full heights, which an apostrophe or a comma shares with
    its letters and a superscript mostly overlaps; gaps by the glyphs' ink.
    """
    (pb, pt), (cb, ct) = prev.line, char.line
    overlap = min(pt, ct) - max(pb, cb)
    if overlap < 0.5 * max(1e-3, min(pt - pb, ct - cb)):
        return True
    em = max(prev.size, char.size, 0.8 * (pt - pb), 0.8 * (ct - cb), 1e-3)
    return char.box[0] < prev.box[0] - 0.5 * em or char.box[0] - prev.box[2] > WORD_GAP_EM * em


def _pixel_box(chars: Sequence[_Char], to_pixels: np.ndarray) -> Box:
    corners = np.array([(x, y, 1.0) for c in chars for x in (c.box[0], c.box[2]) for y in (c.box[1], c.box[3])])
    xy = corners @ to_pixels.T
    return Box(float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max()))


__all__ = ["PageError", "PageImage", "is_pdf", "iter_pages", "parse_page_range"]
