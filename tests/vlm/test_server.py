"""`mathlens serve --backend vlm` end to end: the tiny VLM behind the real app, uvicorn on loopback, real HTTP."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import httpx
import pytest

from mathlens.api import Recognizer
from mathlens.config import DecodeConfig, ServeConfig
from mathlens.inference.preprocess import preprocess_views

pytest.importorskip("fastapi", reason="the serve extra")
TIMEOUT = httpx.Timeout(60.0)


def serve_in_thread():
    """The server tests' own helper (tests/server/conftest.py), so both run the server the same way."""
    path = Path(__file__).parents[1] / "server" / "conftest.py"
    spec = importlib.util.spec_from_file_location("server_conftest", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.serve_in_thread


@pytest.fixture(scope="module")
def vlm_server(tiny_vlm):
    cfg = ServeConfig(beam=1, max_beam=2, batch_wait_ms=20, timeout_s=60, max_batch=4)
    with serve_in_thread()(tiny_vlm, cfg) as running:
        yield running


def test_recognize_answers_what_the_predictor_reads(vlm_server, tiny_vlm, fixtures):
    png = (fixtures / "quadratic.png").read_bytes()
    expected = tiny_vlm.predict_views([preprocess_views(png, tiny_vlm.preprocess_config)], DecodeConfig(beam_size=1))[0]
    response = httpx.post(vlm_server.url + "/v1/recognize", files={"file": ("q.png", png, "image/png")},
                          timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["latex"] == expected.latex and body["tokens"] == list(expected.tokens)
    assert body["confidence"] == pytest.approx(expected.confidence)


def test_batch_and_strokes_go_through_the_same_model(vlm_server, fixtures):
    png = (fixtures / "quadratic.png").read_bytes()
    batch = httpx.post(vlm_server.url + "/v1/recognize/batch",
                       files=[("files", ("a.png", png, "image/png")), ("files", ("b.txt", b"hello", "text/plain"))],
                       timeout=TIMEOUT)
    assert batch.status_code == 200, batch.text
    items = batch.json()
    assert len(items) == 2 and "latex" in items[0] and items[1]["error"] == "not a recognised image format"
    strokes = httpx.post(vlm_server.url + "/v1/recognize/strokes",
                         json={"strokes": [[[0, 0], [10, 10], [20, 0]], [[30, 0], [30, 20]]]}, timeout=TIMEOUT)
    assert strokes.status_code == 200, strokes.text


@pytest.mark.parametrize("data", [b"", b"hello, world\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"])
def test_bad_input_is_a_422_with_the_small_models_message(vlm_server, data):
    response = httpx.post(vlm_server.url + "/v1/recognize", files={"file": ("x.png", data, "image/png")},
                          timeout=TIMEOUT)
    small_error = Recognizer(decode=DecodeConfig(beam_size=1)).recognize_batch([data], errors="return")[0].error
    assert response.status_code == 422 and response.json() == {"detail": small_error}
    assert httpx.get(vlm_server.url + "/health", timeout=TIMEOUT).status_code == 200  # still serving


def test_version_reports_the_vlm_tokenizer_size(vlm_server, tiny_vlm):
    body = httpx.get(vlm_server.url + "/version", timeout=TIMEOUT).json()
    assert body["model"]["vocab_size"] == len(tiny_vlm.engine.tokenizer)
