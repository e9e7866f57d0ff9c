"""POST /v1/page end to end: real uvicorn, the shipped recognizer and detector, real OCR, TeX-made page files."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from mathlens.config import ServeConfig

pytestmark = pytest.mark.slow
TIMEOUT = httpx.Timeout(180.0)
EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def page_server(predictor, start_server):
    cfg = ServeConfig(max_pdf_pages=2, max_page_upload_mb=1.0, page_timeout_s=170)
    with start_server(predictor, cfg) as running:
        yield running


def post_page(server, data: bytes, name: str, **params) -> httpx.Response:
    return httpx.post(server.url + "/v1/page", files={"file": (name, data)}, data=params, timeout=TIMEOUT)


def test_a_page_image_comes_back_as_blocks_and_markdown(page_server):
    response = post_page(page_server, (EXAMPLES / "page.png").read_bytes(), "page.png")
    assert response.status_code == 200, response.text
    body = response.json()
    (page,) = body["pages"]
    assert (page["width"], page["height"]) == Image.open(EXAMPLES / "page.png").size
    kinds = {b["type"] for b in page["blocks"]}
    assert {"text", "display_formula"} <= kinds
    for block in page["blocks"]:
        x0, y0, x1, y1 = block["bbox"]
        assert 0 <= x0 < x1 <= page["width"] and 0 <= y0 < y1 <= page["height"]
    for word in ("quadratic", "Gaussian", "integral", "series"):
        assert word in body["markdown"]
    assert "$$" in body["markdown"] and "\\tag{" in body["markdown"]


def test_a_pdf_reads_through_its_text_layer(page_server):
    response = post_page(page_server, (EXAMPLES / "page.pdf").read_bytes(), "page.pdf", dpi="100")
    assert response.status_code == 200, response.text
    (page,) = response.json()["pages"]
    assert page["dpi"] == 100 and page["width"] == 850
    assert "discriminant" in page["markdown"] and "$$" in page["markdown"]


def test_bad_pages_get_clear_errors_and_the_server_stays_up(page_server):
    pdf = (EXAMPLES / "page.pdf").read_bytes()
    corrupt = post_page(page_server, pdf[:2000], "broken.pdf")
    assert corrupt.status_code == 422 and "PDF" in corrupt.json()["detail"]
    not_a_page = post_page(page_server, b"hello, world", "notes.txt")
    assert not_a_page.status_code == 422
    empty = post_page(page_server, b"", "empty.png")
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    too_many = post_page(page_server, pdf, "page.pdf", pages="1-3")
    assert too_many.status_code in (413, 422)
    big = post_page(page_server, b"0" * (2 * 1024 * 1024), "big.png")
    assert big.status_code == 413
    assert httpx.get(page_server.url + "/health", timeout=TIMEOUT).status_code == 200


def test_a_blank_page_is_an_empty_result(page_server):
    buffer = io.BytesIO()
    Image.new("L", (850, 1100), 255).save(buffer, "PNG")
    response = post_page(page_server, buffer.getvalue(), "blank.png")
    assert response.status_code == 200
    (page,) = response.json()["pages"]
    assert page["blocks"] == [] and page["markdown"].strip() == ""
