"""The 504 path, which a real model is too quick to reach: a fake predictor that blocks until told.

The real model is exercised by test_app.py; this only checks that a stuck model call times the
request out, that the late result is dropped, and that the server answers again afterwards.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from mathlens.config import DecodeConfig, PreprocessConfig, ServeConfig
from mathlens.inference.predictor import Prediction


class BlockingPredictor:
    """Answers "x" for every image, but only once `release` is set (at most 10 s)."""

    model_dir = Path("/nonexistent")  # no model.json: /version reports quantized = null
    vocab = ("<pad>", "<s>", "</s>", "x")
    judge = None  # every picture at every view

    def __init__(self) -> None:
        self.release = threading.Event()
        self.num_calls = 0

    @property
    def preprocess_config(self) -> PreprocessConfig:
        return PreprocessConfig()

    def predict(self, arrays, cfg: DecodeConfig = DecodeConfig()) -> list[Prediction]:
        self.num_calls += 1
        self.release.wait(timeout=10)
        return [Prediction("x", 1.0, ("x",)) for _ in arrays]

    def conclude(self, readings):
        from mathlens.inference.predictor import agree

        return agree(readings)


def test_a_stuck_model_call_gives_504_and_the_server_recovers(fixtures, start_server):
    fake = BlockingPredictor()
    png = (fixtures / "quadratic.png").read_bytes()
    cfg = ServeConfig(timeout_s=0.5, batch_wait_ms=1)
    with start_server(fake, cfg) as server:
        response = httpx.post(server.url + "/v1/recognize", files={"file": ("q.png", png, "image/png")}, timeout=10)
        assert response.status_code == 504 and "0.5 s" in response.json()["detail"]
        fake.release.set()
        response = httpx.post(server.url + "/v1/recognize", files={"file": ("q.png", png, "image/png")}, timeout=10)
        assert response.status_code == 200 and response.json()["latex"] == "x"
        stats = httpx.get(server.url + "/v1/stats", timeout=10).json()
        assert stats["num_timeouts"] == 1 and stats["num_requests"] == 2 and stats["num_errors"] == 1
        assert httpx.get(server.url + "/version", timeout=10).json()["model"] == {
            "vocab_size": 4, "quantized": None, "max_batch": cfg.max_batch, "max_beam": cfg.max_beam}
