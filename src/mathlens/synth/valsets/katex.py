"""A validation set rendered differently from the training data: im2latex-100k val formulas in KaTeX.

Training sees TeX Live and MathJax renders, so this set uses a third renderer: KaTeX's HTML+CSS
with its own fonts, rasterized by Debian's chromium (via Playwright, from the dev extra; no
network: KaTeX is the copy `scripts/install-web-assets.sh` puts beside the web page). Formulas are
taken in a fixed random order (seed 1, so mostly not the formulas of the MathJax set, which uses
seed 0); those KaTeX cannot render are skipped.
"""

from __future__ import annotations

import base64
import io
import re
from importlib import resources
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from mathlens.errors import RenderError
from mathlens.synth.valsets.printed import NUM, shuffled_formulas, write_labels

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INSTALL_HINT = "run scripts/install-deps.sh (chromium, playwright, KaTeX)"
# KaTeX sets .katex to 1.21em, so these sizes give a 12.1-18.1 px em: 12pt at about 73-109 dpi. Against the
# im2latex val images of the same formulas (about 12pt at 100 dpi) display-mode ink heights are 0.74-1.09x.
FONT_PX = (10, 11, 12, 13, 14, 15)
PAD_PX = 4  # white border around the ink in the saved image
RENDER_JS = """([tex, display, px]) => {
  const box = document.getElementById("f");
  box.style.fontSize = px + "px";
  try { katex.render(tex, box, {displayMode: display, throwOnError: true, strict: false}); }
  catch (e) { box.textContent = ""; return String(e); }
  return document.fonts.ready.then(() => null);
}"""


def katex_dir() -> Path:
    """KaTeX as the web page serves it (server/static/vendor/katex)."""
    katex = Path(str(resources.files("mathlens.server") / "static" / "vendor" / "katex"))
    if not (katex / "katex.min.js").is_file():
        raise RenderError(f"KaTeX not found in {katex}: {INSTALL_HINT}")
    return katex


def katex_page() -> str:
    """KaTeX's CSS with the woff2 fonts inlined as data: URIs, and its script inline: no file loads."""
    katex = katex_dir()

    def inline(m: re.Match[str]) -> str:
        return "url(data:font/woff2;base64," + base64.b64encode((katex / m[1]).read_bytes()).decode() + ")"

    css = re.sub(r"url\((fonts/[^)]+\.woff2)\)", inline, (katex / "katex.min.css").read_text(encoding="utf-8"))
    return (f"<!doctype html><html><head><style>{css}\n"
            "body { margin: 0; background: #fff; color: #000; }\n"
            # Wide padding: ink may stick out of KaTeX's boxes (a leading \!\!); render() crops to the ink.
            "#f { display: inline-block; width: max-content; padding: 40px; background: #fff; }\n"
            ".katex-display { margin: 0; }</style>"
            f"<script>{(katex / 'katex.min.js').read_text(encoding='utf-8')}</script></head>"
            '<body><div id="f"></div></body></html>')


def render(page: Any, tex: str, display: bool, font_px: int) -> Image.Image | None:
    """The formula in grayscale, cropped to its ink plus PAD_PX; None if KaTeX fails or draws nothing."""
    if not tex.strip() or page.evaluate(RENDER_JS, [tex, display, font_px]):
        return None
    shot = Image.open(io.BytesIO(page.locator("#f").screenshot())).convert("L")
    ink = ImageOps.invert(shot).getbbox()
    if ink is None:
        return None
    left, top, right, bottom = ink
    return shot.crop((left - PAD_PX, top - PAD_PX, right + PAD_PX, bottom + PAD_PX))


def katex_set(split: Path, out: Path, num: int = NUM, seed: int = 1) -> Path:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise RenderError(f"playwright is not installed: {INSTALL_HINT}") from None
    if not CHROMIUM.exists():
        raise RenderError(f"{CHROMIUM} not found: {INSTALL_HINT}")
    page_html = katex_page()
    indices, formulas = shuffled_formulas(split, seed)
    (out / "images").mkdir(parents=True)
    labels: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 600})
        page.set_content(page_html)
        for k, i in enumerate(indices):
            if len(labels) == num:
                break
            # Size cycles by position; every fifth formula is inline (text style: smaller fractions, limits aside).
            image = render(page, formulas[i], k % 5 != 4, FONT_PX[k % len(FONT_PX)])
            if image is None:
                continue
            image.save(out / "images" / f"{i}.png")
            labels.append(f"images/{i}.png\t{formulas[i]}")
        browser.close()
    return write_labels(out, labels)
