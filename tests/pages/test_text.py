"""Text OCR with rapidocr's shipped models on real rendered text and a real DocBank page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from mathlens.pages.text import TextReader, paint_boxes
from mathlens.pages.types import Box

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LINES = ["The quick brown fox jumps", "over the lazy dog 2024", "alpha GARBLED omega"]


@pytest.fixture(scope="module")
def reader() -> TextReader:
    """One reader for the module: the models load once."""
    try:
        import rapidocr  # noqa: F401
    except ImportError:
        message = "rapidocr missing: pip install 'mathlens[page]'"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    text_reader = TextReader(num_threads=2)
    text_reader.load()
    return text_reader


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size) if FONT.is_file() else ImageFont.load_default(size)


@pytest.fixture(scope="module")
def typed() -> tuple[Image.Image, dict[str, Box]]:
    """Three lines of typed text and each word's true box."""
    image = Image.new("RGB", (1000, 260), "white")
    draw = ImageDraw.Draw(image)
    font = _font(40)
    boxes: dict[str, Box] = {}
    for row, line in enumerate(LINES):
        x, y = 40, 30 + 75 * row
        for word in line.split():
            left, top, right, bottom = draw.textbbox((x, y), word, font=font)
            draw.text((x, y), word, font=font, fill="black")
            boxes[word] = Box(left, top, right, bottom)
            x = right + draw.textlength(" ", font=font)
    return image, boxes


def test_typed_lines_come_back_word_for_word_with_their_boxes(reader, typed):
    image, truth = typed
    lines = reader.read(image)
    assert [line.text for line in lines] == LINES
    for line in lines:
        assert [w.text for w in line.words] == line.text.split()
        assert 0.5 < line.confidence <= 1.0
        for word in line.words:
            true = truth[word.text]  # a word's box spans its line's height, its own width
            assert _x_iou(word.box, true) > 0.8, (word, true)
            assert word.box.y0 <= true.y0 + 2 and word.box.y1 >= true.y1 - 2, (word, true)
            assert 0.5 < word.confidence <= 1.0
    ys = [line.box.y0 for line in lines]
    assert ys == sorted(ys)  # top to bottom


def _x_iou(a: Box, b: Box) -> float:
    inter = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    return inter / (max(a.x1, b.x1) - min(a.x0, b.x0))


def test_a_masked_word_is_not_read(reader, typed):
    image, truth = typed
    garbled = truth["GARBLED"]
    mask = [Box(garbled.x0 - 2, garbled.y0 - 2, garbled.x1 + 2, garbled.y1 + 2)]
    words = [w.text for line in reader.read(image, mask=mask) for w in line.words]
    assert "GARBLED" not in words and not any("GARB" in w for w in words)
    assert {"alpha", "omega", "quick", "lazy"} <= set(words)


def test_the_mask_is_painted_with_the_paper_around_it():
    page = np.full((100, 200, 3), 255, dtype=np.uint8)
    page[20:80, 20:180] = (230, 230, 200)  # a shaded theorem box
    page[40:60, 60:120] = 0  # a formula in it
    out = paint_boxes(page, [Box(55, 35, 125, 65), Box(-10, -10, -5, -5)])
    assert (out[40:60, 60:120] == (230, 230, 200)).all()
    assert (out[:20] == 255).all() and (page[40:60, 60:120] == 0).all()  # outside untouched; input not changed


def test_an_empty_page_has_no_lines(reader):
    assert reader.read(Image.new("RGB", (800, 600), "white")) == []
    assert reader.read(Image.new("RGB", (20, 10), "white")) == []


def test_a_docbank_page_reads_its_words(reader, datasets):
    pages = sorted((datasets / "docbank_samples" / "pages").glob("*_ori.jpg"))
    page = pages[0]
    truth = [line.split("\t") for line in page.with_name(page.name.replace("_ori.jpg", ".txt")).read_text().splitlines()]
    words = [fields[0] for fields in truth if fields[-1] == "paragraph" and re.fullmatch(r"[A-Za-z]{5,}", fields[0])]
    assert len(words) > 100
    lines = reader.read(Image.open(page))
    read = {re.sub(r"\W", "", w.text).lower() for line in lines for w in line.words}
    found = sum(w.lower() in read for w in words) / len(words)
    assert found > 0.9, found
    width, height = Image.open(page).size
    assert all(0 <= line.box.x0 < line.box.x1 <= width and 0 <= line.box.y0 < line.box.y1 <= height for line in lines)
