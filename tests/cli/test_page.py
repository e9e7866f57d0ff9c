"""`mathlens page` end to end in a real subprocess: the TeX-made example page, real PDFs, bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.slow
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def mathlens(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mathlens.cli.main", *args], capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def many_pages_pdf(tmp_path_factory) -> Path:
    """An image-only PDF of 12 blank pages (Pillow writes no text layer)."""
    path = tmp_path_factory.mktemp("pdf") / "twelve.pdf"
    pages = [Image.new("RGB", (425, 550), "white") for _ in range(12)]
    pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=50)
    return path


def test_a_page_image_becomes_markdown_with_formulas_and_text():
    result = mathlens("page", str(EXAMPLES / "page.png"))
    assert result.returncode == 0, result.stderr
    markdown = result.stdout
    for word in ("quadratic", "solutions", "Gaussian", "Taylor"):
        assert word in markdown
    assert markdown.count("$$") >= 6  # the three numbered displays and the unnumbered one, at least three read
    assert "\\tag{1}" in markdown or "\\tag{2}" in markdown


def test_json_pages_and_the_pdf_text_layer():
    result = mathlens("page", str(EXAMPLES / "page.pdf"), "--format", "json", "--dpi", "120")
    assert result.returncode == 0, result.stderr
    (page,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert page["page"] == 1 and page["dpi"] == 120 and (page["width"], page["height"]) == (1020, 1320)
    assert {"text", "inline_formula", "display_formula"} <= {b["type"] for b in page["blocks"]}
    assert "discriminant" in page["markdown"]  # the text layer's words


def test_out_dir_is_resumable_and_bad_inputs_do_not_stop_the_batch(tmp_path, many_pages_pdf):
    corrupt = tmp_path / "corrupt.pdf"
    corrupt.write_bytes((EXAMPLES / "page.pdf").read_bytes()[:3000])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    out = tmp_path / "md"
    result = mathlens("page", str(corrupt), str(EXAMPLES / "page.png"), str(empty), str(many_pages_pdf),
                      "--max-pages", "10", "--out", str(out))
    assert result.returncode == 2
    assert "corrupt.pdf" in result.stderr and "empty.png" in result.stderr
    assert "12 pages" in result.stderr and "--pages" in result.stderr  # over the limit, and how to pick fewer
    assert (out / "page.md").read_text().count("$") > 4
    assert not (out / "corrupt.md").exists()
    (out / "page.md").write_text("kept")
    again = mathlens("page", str(EXAMPLES / "page.png"), str(many_pages_pdf), "--pages", "2-3", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert (out / "page.md").read_text() == "kept"  # done before: not read again
    blank = (out / "twelve.md").read_text()
    assert blank.count("---") == 1 and "$" not in blank  # two empty pages, no formulas


def test_predict_reads_the_formula_out_of_a_sentence_or_points_to_page(tmp_path):
    page = Image.open(EXAMPLES / "page.png").convert("L")
    paragraph = page.crop((100, 110, 1175, 560))  # a heading, a sentence and a display: several formulas
    paragraph.save(tmp_path / "paragraph.png")
    result = mathlens("predict", str(tmp_path / "paragraph.png"))
    assert result.returncode == 2
    assert "mathlens page" in result.stderr
    for formula in ("quadratic.png", "sum.png", "handwritten_photo.jpg"):  # one formula each: read as before
        alone = mathlens("predict", str(EXAMPLES / formula))
        assert alone.returncode == 0 and alone.stdout.strip() and "page" not in alone.stderr, alone.stderr
