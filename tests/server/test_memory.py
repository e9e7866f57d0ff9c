"""Memory after large pictures: a server that has read a 6000x6000 screenshot gives the memory back.

The server runs in its own process (the real model, uvicorn), so its resident memory (/v1/stats)
is its own and not this test's. Measured on a 2-core machine: two batches of two such pictures
left the server 379 MB larger without the trim (366 -> 745 MB) and 22 MB smaller with it.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

from mathlens.server import memory

pytestmark = pytest.mark.slow

SIZE = 6000  # 36 megapixels: within preprocessing's 50
ALLOWED_GROWTH_MB = 150
START_TIMEOUT_S = 60.0
RUNNER = """
import socket, sys, uvicorn
from mathlens.config import ServeConfig
from mathlens.inference.predictor import Predictor, default_model_dir
from mathlens.server.app import create_app
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(("127.0.0.1", 0))
app = create_app(Predictor(default_model_dir(), num_threads=2), ServeConfig(threads=2, batch_wait_ms=5, timeout_s=120))
print(sock.getsockname()[1], flush=True)
uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False)).run(sockets=[sock])
"""


def screenshot(fixtures: Path, size: int, zoom: int) -> bytes:
    """A window (title bar, side panel, faint rows) with the fixture's formula in the middle, zoomed."""
    formula = Image.open(fixtures / "quadratic.png").convert("RGB")
    canvas = Image.new("RGB", (size, size), (250, 250, 250))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([0, 0, size, size // 40], fill=(40, 44, 52))
    draw.rectangle([0, size // 40, size // 10, size], fill=(236, 238, 242))
    for y in range(size // 20, size - size // 20, 240):
        draw.line([(size // 8, y), (size - size // 60, y)], fill=(225, 228, 232), width=2)
    big = formula.resize((formula.width * zoom, formula.height * zoom), Image.Resampling.LANCZOS)
    canvas.paste(big, ((size - big.width) // 2, (size - big.height) // 2))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", RUNNER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = f"http://127.0.0.1:{int(proc.stdout.readline())}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server process did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def rss_mb(url: str) -> float:
    return httpx.get(url + "/v1/stats", timeout=10).json()["rss_bytes"] / 2**20


def recognize_pair(url: str, png: bytes) -> None:
    """Two pictures in one batch request: preprocessed at once, on both pool threads."""
    files = [("files", (f"{i}.png", png, "image/png")) for i in range(2)]
    response = httpx.post(url + "/v1/recognize/batch", files=files, timeout=180)
    assert response.status_code == 200 and all(item.get("latex") for item in response.json()), response.text


@pytest.mark.skipif(not Path("/proc/self/status").is_file() or memory.release_free_memory() is False,
                    reason="needs Linux with glibc (current RSS from /proc, malloc_trim)")
def test_memory_comes_back_after_large_pictures(server_url, fixtures):
    big = screenshot(fixtures, SIZE, zoom=8)
    # First the same formula at about the same model-input size in a small picture: the model's
    # own working memory for such inputs is then in place before the measurement starts.
    recognize_pair(server_url, screenshot(fixtures, 1400, zoom=2))
    before = rss_mb(server_url)
    for _ in range(2):
        recognize_pair(server_url, big)
    after = rss_mb(server_url)
    assert after - before < ALLOWED_GROWTH_MB, f"resident memory {before:.0f} MB -> {after:.0f} MB"


def test_only_large_pictures_are_followed_by_a_trim(fixtures):
    assert memory.picture_pixels((fixtures / "quadratic.png").read_bytes()) < memory.TRIM_AFTER_PIXELS
    assert memory.picture_pixels(screenshot(fixtures, 2000, zoom=2)) == 2000 * 2000 >= memory.TRIM_AFTER_PIXELS
    assert memory.picture_pixels(b"<ink xmlns='http://www.w3.org/2003/InkML'/>") == 0
    assert memory.picture_pixels(b"") == 0
