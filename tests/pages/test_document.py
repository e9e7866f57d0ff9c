"""Opening inputs as pages: real PDFs (pdflatex, Pillow, pypdf) and images, no mocks."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mathlens.errors import InvalidInputError
from mathlens.inference.preprocess import MAX_INPUT_PIXELS
from mathlens.pages.document import PageError, PageImage, is_pdf, iter_pages, parse_page_range


def _need(module: str):
    """The page extra's modules: CI installs them, so there a missing one fails instead of skipping."""
    try:
        return __import__(module)
    except ImportError:
        message = f"{module} missing: pip install 'mathlens[page]'"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


LATEX = r"""\documentclass[letterpaper]{article}
\pdfpagewidth=8.5in \pdfpageheight=11in
\begin{document}
\section{Introduction}
The quick brown fox jumps over the lazy dog. Don't split ``quoted'' words.
\newpage
Second page: zebra xylophone quantum.
\end{document}
"""


@pytest.fixture(scope="module")
def latex_pdf(tmp_path_factory) -> Path:
    """A born-digital two-page PDF with a text layer, made by pdflatex."""
    if shutil.which("pdflatex") is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex missing: run scripts/install-deps.sh", pytrace=False)
        pytest.skip("pdflatex missing: run scripts/install-deps.sh")
    out = tmp_path_factory.mktemp("latex")
    (out / "doc.tex").write_text(LATEX)
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=out,
                   check=True, capture_output=True, timeout=120)
    return out / "doc.pdf"


def _blank_pdf(path: Path, pages: int, size=(100, 100), resolution: float = 72.0) -> Path:
    images = [Image.new("RGB", size, "white") for _ in range(pages)]
    images[0].save(path, "PDF", resolution=resolution, save_all=True, append_images=images[1:])
    return path


def _ink_fraction(image: Image.Image, box) -> float:
    crop = np.asarray(image.convert("L").crop(tuple(int(round(v)) for v in box.as_list())))
    return float((crop < 128).mean()) if crop.size else 0.0


@pytest.mark.texlive
def test_a_born_digital_pdf_brings_its_words_where_the_ink_is(latex_pdf):
    _need("pypdfium2")
    pages = list(iter_pages(latex_pdf, dpi=100))
    assert [p.page for p in pages] == [1, 2] and all(isinstance(p, PageImage) for p in pages)
    first = pages[0]
    assert first.dpi == 100 and first.image.mode == "RGB"
    assert first.image.size == (850, 1100)  # US letter at 100 dpi
    texts = [w.text for w in first.words]
    for word in ("Introduction", "quick", "brown", "fox", "lazy", "dog.", "Don’t", "“quoted”"):
        assert word in texts, texts
    assert texts.index("quick") < texts.index("brown") < texts.index("fox")  # in reading order
    for word in first.words:
        assert 0 <= word.box.x0 < word.box.x1 <= 850 and 0 <= word.box.y0 < word.box.y1 <= 1100
        assert _ink_fraction(first.image, word.box) > 0.1, word  # the box sits on the printed word
    quick = next(w for w in first.words if w.text == "quick")
    brown = next(w for w in first.words if w.text == "brown")
    assert quick.box.x1 < brown.box.x0 and abs(quick.box.y0 - brown.box.y0) < 3  # same line, left to right
    assert {"zebra", "xylophone", "quantum."} <= {w.text for w in pages[1].words}


@pytest.mark.texlive
def test_word_boxes_scale_with_the_dpi(latex_pdf):
    _need("pypdfium2")
    low = next(iter_pages(latex_pdf, dpi=72, pages="1"))
    high = next(iter_pages(latex_pdf, dpi=144, pages="1"))
    assert high.image.size == (1224, 1584) and low.image.size == (612, 792)  # 8.5 x 11 inches
    a = next(w for w in low.words if w.text == "Introduction").box
    b = next(w for w in high.words if w.text == "Introduction").box
    assert b.x0 == pytest.approx(2 * a.x0, abs=1.5) and b.y1 == pytest.approx(2 * a.y1, abs=1.5)


@pytest.mark.texlive
def test_a_rotated_page_maps_its_words_onto_the_rendering(latex_pdf, tmp_path):
    pdfium = _need("pypdfium2")
    pdf = pdfium.PdfDocument(str(latex_pdf))
    pdf[0].set_rotation(90)
    pdf.save(tmp_path / "rotated.pdf")
    pdf.close()
    page = next(iter_pages(tmp_path / "rotated.pdf", dpi=100, pages="1"))
    assert page.image.size == (1100, 850)
    word = next(w for w in page.words if w.text == "Introduction")
    assert word.box.height > word.box.width  # the line now runs down the page
    assert _ink_fraction(page.image, word.box) > 0.1


def test_an_image_only_pdf_has_no_text_layer(tmp_path):
    _need("pypdfium2")
    scan = Image.new("RGB", (850, 1100), "white")
    ImageDraw.Draw(scan).text((100, 100), "Scanned words are pixels here", fill="black")
    scan.save(tmp_path / "scan.pdf", "PDF", resolution=100)
    (page,) = list(iter_pages(tmp_path / "scan.pdf", dpi=150))
    assert isinstance(page, PageImage) and page.words is None
    width, height = page.image.size  # 8.5 x 11 inches at 150 dpi; PDFium rounds the points up
    assert abs(width - 1275) <= 1 and abs(height - 1650) <= 1
    assert np.asarray(page.image.convert("L"))[140:170, 140:400].min() < 100  # the text is rendered


def test_pdfs_are_known_by_their_magic_not_their_name(tmp_path):
    _need("pypdfium2")
    path = _blank_pdf(tmp_path / "scan.png", 2)  # a PDF under an image's name
    data = path.read_bytes()
    assert is_pdf(data) and not is_pdf(b"\x89PNG\r\n\x1a\n")
    pages = list(iter_pages(data, name="upload"))
    assert [(p.path, p.page, p.dpi) for p in pages] == [("upload", 1, 150), ("upload", 2, 150)]


def test_an_encrypted_pdf_is_refused_as_such(tmp_path):
    _need("pypdfium2")
    pypdf = _need("pypdf")
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(_blank_pdf(tmp_path / "plain.pdf", 2)))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")  # pure Python
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(InvalidInputError, match="encrypted.*password"):
        list(iter_pages(buf.getvalue(), name="secret.pdf"))


def test_a_corrupt_pdf_is_refused(tmp_path):
    _need("pypdfium2")
    data = _blank_pdf(tmp_path / "blank.pdf", 3).read_bytes()
    with pytest.raises(InvalidInputError, match="corrupt or unreadable PDF"):
        list(iter_pages(data[: len(data) // 2], name="broken.pdf"))
    with pytest.raises(InvalidInputError, match="corrupt"):
        list(iter_pages(b"%PDF-1.7\n" + b"not really a pdf\n" * 20))


def test_neither_image_nor_pdf_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidInputError, match="not an image or PDF"):
        list(iter_pages(tmp_path / "notes.txt"))
    with pytest.raises(InvalidInputError, match="no such file"):
        list(iter_pages(tmp_path / "missing.pdf"))


def test_too_many_pages_need_a_selection(tmp_path):
    _need("pypdfium2")
    path = _blank_pdf(tmp_path / "five.pdf", 5)
    with pytest.raises(InvalidInputError) as err:
        list(iter_pages(path, max_pages=3))
    message = str(err.value)
    assert "5 pages" in message and "3" in message and "--pages" in message and "--max-pages" in message
    assert [p.page for p in iter_pages(path, max_pages=3, pages="2-4")] == [2, 3, 4]
    with pytest.raises(InvalidInputError, match="4 pages selected"):
        list(iter_pages(path, max_pages=3, pages="1-4"))
    with pytest.raises(InvalidInputError, match="page 7 is out of range"):
        list(iter_pages(path, pages="7"))


def test_a_page_too_large_to_render_is_that_pages_error(tmp_path):
    _need("pypdfium2")
    path = tmp_path / "mixed.pdf"
    small = Image.new("RGB", (100, 100), "white")
    huge = Image.new("RGB", (200, 200), "white")  # at resolution 1: a 200-inch page
    small.save(tmp_path / "small.pdf", "PDF")
    huge.save(tmp_path / "huge.pdf", "PDF", resolution=1)
    pypdf = _need("pypdf")
    writer = pypdf.PdfWriter()
    for part in ("small.pdf", "huge.pdf", "small.pdf"):
        writer.append(str(tmp_path / part))
    writer.write(path)
    pages = list(iter_pages(path, dpi=150))
    assert [type(p) for p in pages] == [PageImage, PageError, PageImage]  # the others go on
    assert pages[1].page == 2 and "lower --dpi" in pages[1].error and f"{MAX_INPUT_PIXELS:,}" in pages[1].error
    (small_page,) = [p for p in iter_pages(tmp_path / "huge.pdf", dpi=1)]
    assert small_page.image.size == (200, 200)  # a lower dpi renders it


def test_a_multi_frame_tiff_is_several_pages(tmp_path):
    colours = [(255, 255, 255), (255, 0, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (300, 200), c) for c in colours]
    frames[0].save(tmp_path / "scan.tif", save_all=True, append_images=frames[1:])
    pages = list(iter_pages(tmp_path / "scan.tif"))
    assert [(p.page, p.image.getpixel((5, 5)), p.image.mode, p.dpi, p.words) for p in pages] == [
        (i + 1, c, "RGB", None, None) for i, c in enumerate(colours)]
    assert [p.page for p in iter_pages(tmp_path / "scan.tif", pages="2-")] == [2, 3]
    with pytest.raises(InvalidInputError, match="3 pages"):
        list(iter_pages(tmp_path / "scan.tif", max_pages=2))


def test_images_are_one_rgb_page(tmp_path):
    for fmt, mode in (("PNG", "LA"), ("JPEG", "L"), ("WEBP", "RGBA")):
        buf = io.BytesIO()
        Image.new(mode, (64, 32), 200 if mode == "L" else (10, 20) if mode == "LA" else (1, 2, 3, 255)).save(buf, fmt)
        (page,) = list(iter_pages(buf.getvalue(), name=f"x.{fmt.lower()}"))
        assert (page.path, page.page, page.image.mode, page.image.size) == (f"x.{fmt.lower()}", 1, "RGB", (64, 32))


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (60, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turn 90 degrees clockwise to view
    image.save(tmp_path / "photo.jpg", exif=exif)
    (page,) = list(iter_pages(tmp_path / "photo.jpg"))
    assert page.image.size == (20, 60)


@pytest.mark.parametrize("spec, expected", [
    ("2-5", [2, 3, 4, 5]), ("1,3,7-9", [1, 3, 7, 8, 9]), ("4-", [4, 5, 6, 7, 8, 9, 10]),
    ("3", [3]), (" 5 , 1-2 ", [1, 2, 5]), ("2-3,3-4", [2, 3, 4]),
])
def test_page_ranges(spec, expected):
    assert parse_page_range(spec, 10) == expected


@pytest.mark.parametrize("spec, match", [
    ("", "bad page range"), ("a-b", "bad page range"), ("1,,2", "bad page range"), ("0", "empty"),
    ("5-2", "empty"), ("3-11", "out of range"), ("12", "out of range"), ("-3", "bad page range"),
])
def test_bad_page_ranges_say_why(spec, match):
    with pytest.raises(InvalidInputError, match=match):
        parse_page_range(spec, 10)
