"""The web page at / in a real browser: Debian's chromium driven by Playwright, against a real
server on loopback with the real shipped model.

The LaTeX itself is not checked against fixed strings (the model is retrained); the page must
show what the server answered, render it with KaTeX, and follow the user's edits. Needs chromium
(apt), playwright (pip) and the KaTeX files (scripts/install-web-assets.sh): scripts/install-deps.sh
installs all three. `playwright install` is never used. Set MATHLENS_PAGE_SCREENSHOT=path.png to
keep a screenshot of the page with a result.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mathlens.config import ServeConfig

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VENDOR = Path(__file__).parents[2] / "src" / "mathlens" / "server" / "static" / "vendor" / "katex"
WAIT_MS = 20_000  # a model call on a busy 2-core machine, with margin
INSTALL_HINT = "run scripts/install-deps.sh (chromium, playwright, KaTeX)"


@pytest.fixture(scope="module")
def page_server(predictor, start_server):
    with start_server(predictor, ServeConfig(batch_wait_ms=2, timeout_s=30)) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A chromium with a fresh profile; missing parts fail (never skip), like TeX Live in CI."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"playwright is not installed: {INSTALL_HINT}")
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: {INSTALL_HINT}")
    if not (VENDOR / "katex.min.js").is_file():
        pytest.fail(f"KaTeX is missing from {VENDOR}: run scripts/install-web-assets.sh")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1100, "height": 900})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser, page_server) -> Iterator:
    """The page, loaded with KaTeX ready; fails the test on any script error or console error."""
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)  # 4xx answers
    page.goto(page_server.url + "/")
    page.wait_for_function("() => window.katex !== undefined", timeout=WAIT_MS)
    yield page
    page.close()
    assert not problems, problems


def expect_result(page, answer: dict) -> None:
    """The textarea holds the server's LaTeX, the preview shows KaTeX, the confidence is shown."""
    from playwright.sync_api import expect

    expect(page.locator("#latex")).to_have_value(answer["latex"])
    percent = math.floor(answer["confidence"] * 100 + 0.5)  # JavaScript's Math.round: halves go up, not to even
    expect(page.locator("#confidence")).to_have_text(re.compile(rf"Confidence {percent}%"))
    expect(page.locator("#status")).to_have_text("")
    if answer["latex"].strip():
        expect(page.locator("#preview .katex").first).to_be_visible()


def test_upload_shows_latex_preview_and_confidence(page, fixtures):
    from playwright.sync_api import expect

    with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=WAIT_MS) as response:
        page.set_input_files("#file-input", fixtures / "quadratic.png")
    assert response.value.status == 200
    answer = response.value.json()
    assert answer["latex"].strip(), "the model read nothing in quadratic.png"
    expect_result(page, answer)
    expect(page.locator("#image-preview")).to_be_visible()
    expect(page.locator("#copy")).to_be_enabled()
    if os.environ.get("MATHLENS_PAGE_SCREENSHOT"):
        page.screenshot(path=os.environ["MATHLENS_PAGE_SCREENSHOT"], full_page=True)


def draw(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Mouse strokes on the pad, in pad coordinates."""
    box = page.locator("#pad").bounding_box()
    for stroke in strokes:
        (x0, y0), rest = stroke[0], stroke[1:]
        page.mouse.move(box["x"] + x0, box["y"] + y0)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=6)
        page.mouse.up()


def test_drawing_is_sent_as_strokes_and_undo_and_clear_work(page):
    from playwright.sync_api import expect

    plus = [[(60, 120), (140, 120)], [(100, 80), (100, 160)]]
    one = [[(190, 95), (215, 75), (215, 165)]]
    with page.expect_response(lambda r: r.url.endswith("/v1/recognize/strokes"), timeout=WAIT_MS) as response:
        draw(page, plus + one)
    assert response.value.status == 200, response.value.text()
    sent = response.value.request.post_data_json
    assert len(sent["strokes"]) == 3 and "beam" not in sent  # the server's default search
    assert all(len(stroke) >= 2 and len(stroke[0]) == 2 for stroke in sent["strokes"])
    expect_result(page, response.value.json())

    with page.expect_response(lambda r: r.url.endswith("/v1/recognize/strokes"), timeout=WAIT_MS) as response:
        page.click("#undo")
    assert response.value.status == 200 and len(response.value.request.post_data_json["strokes"]) == 2
    page.click("#clear")
    expect(page.locator("#pad-hint")).to_be_visible()
    expect(page.locator("#undo")).to_be_disabled()
    expect(page.locator("#clear")).to_be_disabled()


def test_editing_the_latex_updates_the_preview_and_copy_works(page):
    from playwright.sync_api import expect

    latex, preview, note = page.locator("#latex"), page.locator("#preview"), page.locator("#preview-note")
    latex.fill(r"\frac{a}{b}")
    expect(preview.locator(".katex .mfrac")).to_have_count(1)
    latex.fill(r"\frac{a}{")  # mid-edit: the last rendering stays, dimmed, with the reason
    expect(note).to_contain_text("Cannot render")
    expect(preview).to_have_class(re.compile(r"\bstale\b"))
    latex.fill(r"x^{2}+\sqrt{y}")
    expect(preview.locator(".katex .msupsub")).to_have_count(1)
    expect(preview.locator(".katex .mfrac")).to_have_count(0)
    expect(note).to_be_hidden()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy")
    expect(page.locator("#copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == r"x^{2}+\sqrt{y}"
    latex.fill("")
    expect(preview.locator(".katex")).to_have_count(0)
    expect(page.locator("#copy")).to_be_disabled()


COPY_IMAGE = """async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    await navigator.clipboard.write([new ClipboardItem({ "image/png": new Blob([bytes], { type: "image/png" }) })]);
}"""

DROP_IMAGE = """(b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], "quadratic.png", { type: "image/png" }));
    const drop = new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true });
    document.querySelector("#dropzone").dispatchEvent(drop);
    return drop.defaultPrevented;
}"""


def test_ctrl_v_pastes_an_image_from_the_clipboard(page, fixtures):
    """A real paste: the image goes on the browser's clipboard, then Ctrl+V, with the LaTeX box focused."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate(COPY_IMAGE, base64.b64encode((fixtures / "quadratic.png").read_bytes()).decode())
    page.focus("#latex")  # an image pasted into the text box is recognized, not pasted as text
    with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=WAIT_MS) as response:
        page.keyboard.press("Control+V")
    assert response.value.status == 200
    expect_result(page, response.value.json())


def test_dropped_image_is_recognized(page, fixtures):
    """Playwright cannot drag a file from the desktop; the drop event carries one as a browser's would."""
    png = base64.b64encode((fixtures / "quadratic.png").read_bytes()).decode()
    with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=WAIT_MS) as response:
        assert page.evaluate(DROP_IMAGE, png) is True  # the page took the file (no navigation to it)
    assert response.value.status == 200
    expect_result(page, response.value.json())


def expect_no_result(page) -> None:
    """Nothing left of an earlier reading: no LaTeX to copy, no confidence, no warning, no preview."""
    from playwright.sync_api import expect

    expect(page.locator("#latex")).to_have_value("")
    expect(page.locator("#confidence")).to_be_hidden()
    expect(page.locator("#unsure")).to_be_hidden()
    expect(page.locator("#copy")).to_be_disabled()
    expect(page.locator("#preview .katex")).to_have_count(0)
    expect(page.locator("#preview")).to_have_attribute("data-empty", "true")


def test_a_server_error_is_shown_and_clears_the_previous_reading(page, fixtures):
    from playwright.sync_api import expect

    with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=WAIT_MS) as response:
        page.set_input_files("#file-input", fixtures / "quadratic.png")
    expect_result(page, response.value.json())
    with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=WAIT_MS) as response:
        page.set_input_files("#file-input", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                                    "buffer": b"not a formula"}])
    assert response.value.status == 422
    expect(page.locator("#status")).to_have_text(re.compile(r"Could not recognize: .*not a recognised image"))
    expect_no_result(page)
    expect(page.locator("#image-preview")).to_be_hidden()  # not the previous picture beside the error


def test_a_file_the_browser_cannot_show_gets_no_broken_thumbnail(page, fixtures):
    """Claimed to be a PNG but is not: the browser cannot draw it, so no thumbnail (no broken-image
    icon); the server says why; a good image afterwards shows its thumbnail again."""
    from playwright.sync_api import expect

    with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=WAIT_MS) as response:
        page.set_input_files("#file-input", files=[{"name": "scan.png", "mimeType": "image/png",
                                                    "buffer": b"\x89PNG\r\n\x1a\n not really"}])
    assert response.value.status == 422
    detail = response.value.json()["detail"]
    expect(page.locator("#status")).to_have_text(f"Could not recognize: {detail}")
    expect(page.locator("#image-preview")).to_be_hidden()
    expect(page.locator("#image-preview")).not_to_have_attribute("src", re.compile("."))
    expect(page.locator("#image-name")).to_have_text("scan.png")
    expect_no_result(page)
    with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=WAIT_MS) as response:
        page.set_input_files("#file-input", fixtures / "quadratic.png")
    expect_result(page, response.value.json())
    expect(page.locator("#image-preview")).to_be_visible()


class DoubtfulPredictor:
    """A fake model whose reading the test sets; `unsure` is the doubt the page must show."""

    model_dir = Path("/nonexistent")
    vocab = ("<pad>", "<s>", "</s>", "x")
    judge = None  # every picture at every view

    def __init__(self) -> None:
        from mathlens.inference.predictor import Prediction

        self.reading = Prediction(r"\frac{1}{x}", 0.42, ("\\frac", "{", "1", "}", "{", "x", "}"),
                                  unsure="too little ink to be a formula")

    @property
    def preprocess_config(self):
        from mathlens.config import PreprocessConfig

        return PreprocessConfig()

    def predict(self, arrays, cfg=None) -> list:
        return [self.reading for _ in arrays]

    def conclude(self, readings):
        from mathlens.inference.predictor import agree

        return agree(readings)


def test_an_unsure_reading_shows_a_warning_until_the_next_reading(browser, start_server, fixtures):
    from dataclasses import replace

    from playwright.sync_api import expect

    fake = DoubtfulPredictor()
    with start_server(fake, ServeConfig(batch_wait_ms=1, timeout_s=10)) as server:
        page = browser.new_page()
        try:
            expect.set_options(timeout=WAIT_MS)
            page.goto(server.url + "/")
            page.wait_for_function("() => window.katex !== undefined", timeout=WAIT_MS)
            with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=WAIT_MS) as response:
                page.set_input_files("#file-input", fixtures / "quadratic.png")
            assert response.value.json()["unsure"] == "too little ink to be a formula"
            expect_result(page, response.value.json())
            warning = page.locator("#unsure")
            expect(warning).to_be_visible()
            expect(warning).to_have_text("Unsure: too little ink to be a formula")
            expect(page.locator("#copy")).to_be_enabled()  # a warning, not a refusal
            if os.environ.get("MATHLENS_PAGE_SCREENSHOT"):
                page.screenshot(path=os.environ["MATHLENS_PAGE_SCREENSHOT"].replace(".png", "-unsure.png"),
                                full_page=True)

            fake.reading = replace(fake.reading, confidence=0.97, unsure=None)
            with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=WAIT_MS) as response:
                page.set_input_files("#file-input", fixtures / "quadratic.png")
            expect_result(page, response.value.json())
            expect(warning).to_be_hidden()

            fake.reading = replace(fake.reading, unsure="low confidence")
            with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=WAIT_MS):
                page.set_input_files("#file-input", fixtures / "quadratic.png")
            expect(warning).to_have_text("Unsure: low confidence")
            with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=WAIT_MS):
                page.set_input_files("#file-input", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                                            "buffer": b"not a formula"}])
            expect_no_result(page)  # an error clears the warning with the reading
        finally:
            page.close()


def test_page_works_without_katex(browser, page_server):
    """The vendor folder is git-ignored: without it the preview is plain text with a note."""
    from playwright.sync_api import expect

    page = browser.new_page()
    try:
        page.route("**/static/vendor/**", lambda route: route.fulfill(status=404, body="missing"))
        page.goto(page_server.url + "/")
        page.locator("#latex").fill(r"\frac{a}{b}")
        expect(page.locator("#preview-note")).to_contain_text("KaTeX is not installed")
        expect(page.locator("#preview")).to_have_text(r"\frac{a}{b}")
        expect(page.locator("#preview .katex")).to_have_count(0)
    finally:
        page.close()


def test_api_docs_render_with_no_network_but_the_server(browser, page_server):
    """/docs (the footer's link) draws the operations from this server's own Swagger UI: every
    request to another host is aborted, so a CDN would leave the page blank."""
    from urllib.parse import urlsplit

    from playwright.sync_api import expect

    from mathlens.server.app import SWAGGER_DIR

    if not (SWAGGER_DIR / "swagger-ui-bundle.js").is_file():
        pytest.fail(f"Swagger UI is missing from {SWAGGER_DIR}: run scripts/install-web-assets.sh")
    expect.set_options(timeout=WAIT_MS)
    outside: list[str] = []

    def only_loopback(route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page = browser.new_page()
    try:
        page.route("**/*", only_loopback)
        page.goto(page_server.url + "/")
        page.click("footer a[href='docs']")
        expect(page).to_have_url(page_server.url + "/docs")
        operations = page.locator("#swagger-ui .opblock-summary-path")
        expect(operations.filter(has_text=re.compile(r"^/v1/recognize$"))).to_be_visible()
        expect(operations.filter(has_text="/v1/recognize/strokes")).to_be_visible()
        assert outside == []
        if os.environ.get("MATHLENS_DOCS_SCREENSHOT"):
            page.screenshot(path=os.environ["MATHLENS_DOCS_SCREENSHOT"])
    finally:
        page.close()


PAGE_WAIT_MS = 120_000  # the first page request loads the detector and OCR models, then reads for seconds
EXAMPLE_PAGE = Path(__file__).resolve().parents[2] / "examples" / "page.png"


def only_loopback_route(outside: list[str]):
    """A route handler that lets the page reach only this server and records anything else."""
    from urllib.parse import urlsplit

    def handle(route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    return handle


def test_page_mode_reads_a_page_boxes_its_formulas_and_renders_the_markdown(page):
    """Page mode: examples/page.png goes to /v1/page; the page is drawn with a box for each formula
    the server found, and its Markdown is rendered with KaTeX; nothing leaves 127.0.0.1."""
    from playwright.sync_api import expect

    outside: list[str] = []
    page.route("**/*", only_loopback_route(outside))
    expect(page.locator("#page-mode")).to_be_hidden()
    page.click("#tab-page")
    expect(page.locator("#tab-page")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#page-mode")).to_be_visible()
    expect(page.locator("#formula-mode")).to_be_hidden()

    with page.expect_response(lambda r: r.url.endswith("/v1/page"), timeout=PAGE_WAIT_MS) as response:
        page.set_input_files("#page-input", EXAMPLE_PAGE)
        expect(page.locator("#page-status")).to_have_class(re.compile(r"\bbusy\b"))  # seconds of reading
    assert response.value.status == 200, response.value.text()
    answer = response.value.json()
    (only,) = answer["pages"]
    formulas = [b for b in only["blocks"] if b["type"] in ("inline_formula", "display_formula", "figure", "table")]
    assert len(formulas) > 3, "the detector found almost nothing on examples/page.png"

    expect(page.locator("#page-status")).to_have_text("")
    boxes = page.locator("#page-view .page-box")
    expect(boxes).to_have_count(len(formulas))
    assert page.locator("#page-view .page-sheet").get_attribute("data-boxes") == str(len(formulas))
    expect(page.locator("#page-view img.page-image")).to_be_visible()  # the uploaded picture under its boxes
    expect(page.locator("#page-view .page-box.display").first).to_be_visible()
    expect(page.locator("#page-view .page-box.inline").first).to_be_visible()
    # A box sits where the server put it, scaled to the drawn page.
    sheet = page.locator("#page-view .page-sheet").bounding_box()
    first = next(b for b in only["blocks"] if b["type"] == "display_formula")
    box = page.locator("#page-view .page-box.display").first.bounding_box()
    scale = sheet["width"] / only["width"]
    assert abs(box["x"] - sheet["x"] - first["bbox"][0] * scale) < 3
    assert abs(box["y"] - sheet["y"] - first["bbox"][1] * scale) < 3

    markdown = page.locator("#page-markdown")
    expect(markdown.locator(".katex").first).to_be_visible()
    expect(markdown.locator(".katex-display").first).to_be_visible()
    expect(markdown).to_contain_text(re.compile("quadratic", re.IGNORECASE))
    assert markdown.locator("script, img").count() == 0  # text is set as text, never as HTML
    expect(page.locator("#copy-markdown")).to_be_enabled()
    expect(page.locator("#copy-json")).to_be_enabled()

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy-markdown")
    expect(page.locator("#copy-markdown")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == answer["markdown"]
    page.click("#copy-json")
    expect(page.locator("#copy-json")).to_have_text("Copied")
    assert json.loads(page.evaluate("navigator.clipboard.readText()")) == answer
    assert outside == []
    if os.environ.get("MATHLENS_PAGE_SCREENSHOT"):
        page.screenshot(path=os.environ["MATHLENS_PAGE_SCREENSHOT"].replace(".png", "-page.png"), full_page=True)

    # An error afterwards leaves nothing of this page to look at or copy.
    with page.expect_response(lambda r: r.url.endswith("/v1/page"), timeout=PAGE_WAIT_MS) as response:
        page.set_input_files("#page-input", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                                    "buffer": b"not a page"}])
    assert 400 <= response.value.status < 500
    expect(page.locator("#page-status")).to_have_text(re.compile(r"^Could not read the page: "))
    expect(page.locator("#page-output")).to_be_hidden()
    expect(page.locator("#page-view .page-box")).to_have_count(0)
    expect(page.locator("#page-markdown .katex")).to_have_count(0)
    expect(page.locator("#copy-markdown")).to_be_disabled()

    # Back to formula mode: it still works as before.
    page.click("#tab-formula")
    expect(page.locator("#formula-mode")).to_be_visible()
    page.locator("#latex").fill(r"\frac{a}{b}")
    expect(page.locator("#preview .katex .mfrac")).to_have_count(1)


def test_page_mode_shows_an_error_for_a_file_that_is_not_a_page(page):
    from playwright.sync_api import expect

    page.click("#tab-page")
    with page.expect_response(lambda r: r.url.endswith("/v1/page"), timeout=PAGE_WAIT_MS) as response:
        page.set_input_files("#page-input", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                                    "buffer": b"not a page"}])
    assert 400 <= response.value.status < 500
    detail = response.value.json()["detail"]
    status = page.locator("#page-status")
    expect(status).to_have_text(f"Could not read the page: {detail}")
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(page.locator("#page-output")).to_be_hidden()
    expect(page.locator("#page-view .page-box")).to_have_count(0)
    expect(page.locator("#copy-markdown")).to_be_disabled()
    expect(page.locator("#copy-json")).to_be_disabled()


def test_page_mode_draws_a_pdf_page_as_a_sheet_with_its_boxes(page):
    """The browser has no PDF renderer here: a PDF page is a white sheet of the page's shape with
    the server's boxes on it, and its Markdown (from the text layer) rendered beside it. The box
    count needs the trained detector."""
    from playwright.sync_api import expect

    outside: list[str] = []
    page.route("**/*", only_loopback_route(outside))
    page.click("#tab-page")
    with page.expect_response(lambda r: r.url.endswith("/v1/page"), timeout=PAGE_WAIT_MS) as response:
        page.set_input_files("#page-input", EXAMPLE_PAGE.with_suffix(".pdf"))
    assert response.value.status == 200, response.value.text()
    (only,) = response.value.json()["pages"]
    boxed = [b for b in only["blocks"] if b["type"] in ("inline_formula", "display_formula", "figure", "table")]
    assert boxed, "the detector found nothing on examples/page.pdf"
    sheet = page.locator("#page-view .page-sheet")
    expect(sheet).to_have_count(1)
    expect(page.locator("#page-view img")).to_have_count(0)
    expect(page.locator("#page-view .page-box")).to_have_count(len(boxed))
    drawn = sheet.bounding_box()
    assert abs(drawn["height"] / drawn["width"] - only["height"] / only["width"]) < 0.01  # the page's shape
    markdown = page.locator("#page-markdown")
    expect(markdown).to_contain_text("discriminant")
    expect(markdown.locator(".katex").first).to_be_visible()
    assert outside == []
