"""POST /v1/page end to end: real uvicorn, the shipped recognizer and detector, real OCR, pages typeset by TeX Live.

The recognized LaTeX is never compared with fixed strings (the models are retrained); the page's
words come from OCR or the PDF's text layer, which read them exactly or nearly so. Assertions that
need the trained detector (the stand-in one finds no formulas, or random ones) say so.
"""

from __future__ import annotations

import io
import subprocess

import httpx
import pytest
from PIL import Image

from mathlens.config import ServeConfig

pytestmark = pytest.mark.slow
TIMEOUT = httpx.Timeout(180.0)  # a page on a busy 2-core machine, with margin
BLOCK_TYPES = {"text", "inline_formula", "display_formula", "figure", "table"}

# Three letter pages: text with inline and display formulas; text only; and a page 150 inches
# square, which no server renders (50 megapixels at most), so it fails alone inside the PDF.
PAGES_TEX = r"""\documentclass[11pt]{article}
\usepackage[letterpaper,margin=1in]{geometry}
\pagestyle{empty}
\begin{document}
The Pythagorean theorem says that every right triangle with legs $x$ and $y$ and hypotenuse $z$
satisfies $x^2+y^2=z^2$, and conversely. The area under a parabola between zero and one is
\[ \int_0^1 t^2\,dt = \frac{1}{3}. \]
Both facts were known to ancient mathematicians long before calculus.
\newpage
Harmonic oscillators describe springs, pendulums and electrical circuits alike.
\newpage
\pdfpagewidth=150in \pdfpageheight=150in
Enormous page.
\end{document}
"""


@pytest.fixture(scope="module")
def tex_pages(tmp_path_factory) -> dict[str, bytes]:
    """The PDF pdflatex makes of PAGES_TEX, and its first page as a 150 dpi PNG (pdftoppm)."""
    folder = tmp_path_factory.mktemp("tex_pages")
    (folder / "pages.tex").write_text(PAGES_TEX, encoding="utf-8")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "pages.tex"], cwd=folder,
                   check=True, capture_output=True, timeout=120)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", "pages.pdf", "page1"],
                   cwd=folder, check=True, capture_output=True, timeout=120)
    return {"pdf": (folder / "pages.pdf").read_bytes(), "png": (folder / "page1.png").read_bytes()}


@pytest.fixture(scope="module")
def page_server(predictor, start_server):
    cfg = ServeConfig(max_pdf_pages=2, max_page_upload_mb=1.0, page_timeout_s=170)
    with start_server(predictor, cfg) as running:
        yield running


def post_page(server, data: bytes, name: str, *, query: dict | None = None, **form: str) -> httpx.Response:
    return httpx.post(server.url + "/v1/page", files={"file": (name, data)}, data=form, params=query,
                      timeout=TIMEOUT)


def check_page(page: dict, name: str) -> None:
    """A page object as PageResult.to_json gives it: every box inside the page, text or LaTeX by type."""
    assert set(page) == {"path", "page", "width", "height", "dpi", "blocks", "markdown"}
    assert page["path"] == name and page["page"] >= 1 and page["width"] > 0 and page["height"] > 0
    assert isinstance(page["markdown"], str)
    for block in page["blocks"]:
        assert block["type"] in BLOCK_TYPES
        x0, y0, x1, y1 = block["bbox"]
        assert 0 <= x0 < x1 <= page["width"] and 0 <= y0 < y1 <= page["height"], block
        assert 0.0 <= block["confidence"] <= 1.0
        if block["type"].endswith("_formula"):
            assert isinstance(block["latex"], str) and "text" not in block
        if block["type"] == "text":
            assert block["text"].strip() and "latex" not in block


@pytest.mark.texlive
def test_a_page_image_comes_back_as_blocks_and_markdown(page_server, tex_pages):
    response = post_page(page_server, tex_pages["png"], "page1.png")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"pages", "markdown", "ms"}
    (page,) = body["pages"]
    check_page(page, "page1.png")
    assert (page["width"], page["height"]) == Image.open(io.BytesIO(tex_pages["png"])).size
    assert page["dpi"] is None  # an image: its resolution is not known
    assert body["markdown"].strip() == page["markdown"].strip()
    words = ("Pythagorean", "triangle", "hypotenuse", "parabola", "ancient", "calculus")  # OCR
    assert sum(word in body["markdown"] for word in words) >= 4, body["markdown"]
    # The trained detector: the formulas are found, boxed and written as $...$ / $$...$$.
    formulas = [b for b in page["blocks"] if b["type"].endswith("_formula")]
    assert len(formulas) >= 2 and any(b["type"] == "display_formula" for b in formulas)
    assert "$$" in body["markdown"] and body["markdown"].count("$") >= 6


@pytest.mark.texlive
def test_a_pdf_page_is_read_through_its_text_layer_at_the_dpi_asked(page_server, tex_pages):
    response = post_page(page_server, tex_pages["pdf"], "pages.pdf", query={"pages": "2", "dpi": "100"})
    assert response.status_code == 200, response.text
    (page,) = response.json()["pages"]
    check_page(page, "pages.pdf")
    assert page["page"] == 2 and page["dpi"] == 100 and (page["width"], page["height"]) == (850, 1100)
    for word in ("Harmonic", "oscillators", "pendulums", "circuits"):  # the text layer: exact
        assert word in page["markdown"]


@pytest.mark.texlive
def test_a_page_that_fails_comes_back_as_its_error_beside_the_others(page_server, tex_pages):
    response = post_page(page_server, tex_pages["pdf"], "pages.pdf", pages="1,3", dpi="60")
    assert response.status_code == 200, response.text
    body = response.json()
    first, third = body["pages"]
    check_page(first, "pages.pdf")
    assert "Pythagorean" in first["markdown"]
    assert set(third) == {"path", "page", "error"} and third["page"] == 3
    assert "too large" in third["error"]
    assert "\n\n---\n\n" in body["markdown"] and "<!-- page 3:" in body["markdown"]
    assert body["markdown"].index("Pythagorean") < body["markdown"].index("<!-- page 3:")


@pytest.mark.texlive
def test_more_pages_than_the_limit_are_refused_saying_how_to_pick_fewer(page_server, tex_pages):
    whole = post_page(page_server, tex_pages["pdf"], "pages.pdf")
    assert whole.status_code == 413
    detail = whole.json()["detail"]
    assert "3 pages" in detail and "limit of 2" in detail and "`pages`" in detail
    picked = post_page(page_server, tex_pages["pdf"], "pages.pdf", pages="1-3")
    assert picked.status_code == 413 and "pages=1-3 selects 3" in picked.json()["detail"]
    beyond = post_page(page_server, tex_pages["pdf"], "pages.pdf", pages="4")
    assert beyond.status_code == 422 and "out of range" in beyond.json()["detail"]


@pytest.mark.texlive
def test_bad_input_gets_a_clear_error_and_the_server_stays_up(page_server, tex_pages):
    pdf = tex_pages["pdf"]
    answers = {
        "corrupt PDF": (post_page(page_server, pdf[:1500], "broken.pdf"), 422, "PDF"),
        "text file": (post_page(page_server, b"hello, world", "notes.txt"), 422, "not an image or PDF"),
        "empty file": (post_page(page_server, b"", "empty.png"), 422, "empty"),
        "dpi too high": (post_page(page_server, pdf, "pages.pdf", dpi="600"), 422, "from 50 to 300"),
        "dpi not a number": (post_page(page_server, pdf, "pages.pdf", dpi="1e3"), 422, "dpi"),
        "pages malformed": (post_page(page_server, pdf, "pages.pdf", pages="all"), 422, "pages"),
        "over the upload limit": (post_page(page_server, b"0" * (2 * 1024 * 1024), "big.png"), 413, "too large"),
        "no file": (httpx.post(page_server.url + "/v1/page", data={"pages": "1"}, files={"other": ("a", b"x")},
                               timeout=TIMEOUT), 422, "'file'"),
        "JSON": (httpx.post(page_server.url + "/v1/page", json={"file": "x"}, timeout=TIMEOUT), 415, "multipart"),
    }
    for what, (response, status, words) in answers.items():
        assert response.status_code == status, (what, response.text)
        assert words in response.json()["detail"], (what, response.text)
    assert httpx.get(page_server.url + "/health", timeout=TIMEOUT).status_code == 200


def test_a_blank_page_is_an_empty_result(page_server):
    buffer = io.BytesIO()
    Image.new("L", (850, 1100), 255).save(buffer, "PNG")
    response = post_page(page_server, buffer.getvalue(), "blank.png")
    assert response.status_code == 200, response.text
    (page,) = response.json()["pages"]
    assert page["blocks"] == [] and page["markdown"].strip() == ""
    assert response.json()["markdown"] == ""


def test_the_page_endpoint_is_described_in_the_api_docs(page_server):
    spec = httpx.get(page_server.url + "/openapi.json", timeout=TIMEOUT).json()
    operation = spec["paths"]["/v1/page"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file"] and set(form["properties"]) == {"file", "pages", "dpi"}
    assert {p["name"] for p in operation["parameters"]} == {"pages", "dpi"}
    assert form["properties"]["dpi"]["maximum"] == 300 and "2" in form["properties"]["pages"]["description"]
    assert {"200", "413", "422", "503", "504"} <= set(operation["responses"])
    assert "PageResponse" in operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
