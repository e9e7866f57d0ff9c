"""What every answer carries, checked with a fake predictor whose readings are set by the test:
`unsure` (the model's doubt) on each endpoint, and the beam range of a server whose --max-beam is
above the schema's old fixed bound. The real model's answers are checked in test_app.py.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from mathlens.config import DecodeConfig, PreprocessConfig, ServeConfig
from mathlens.inference.predictor import Prediction

TIMEOUT = httpx.Timeout(30.0)
STROKES = [[[10, 10], [10, 60]], [[0, 35], [20, 35]]]


class FixedPredictor:
    """Answers `reading` for every image, and remembers the beam sizes it was asked for."""

    model_dir = Path("/nonexistent")
    vocab = ("<pad>", "<s>", "</s>", "x")
    judge = None  # every picture at every view

    def __init__(self, reading: Prediction) -> None:
        self.reading = reading
        self.beams: list[int] = []

    @property
    def preprocess_config(self) -> PreprocessConfig:
        return PreprocessConfig()

    def predict(self, arrays, cfg: DecodeConfig = DecodeConfig()) -> list[Prediction]:
        self.beams.append(cfg.beam_size)
        return [self.reading for _ in arrays]

    def conclude(self, readings):
        from mathlens.inference.predictor import agree

        return agree(readings)


@pytest.fixture(scope="module")
def png(fixtures) -> bytes:
    return (fixtures / "quadratic.png").read_bytes()


def requests(png: bytes) -> dict[str, tuple[str, dict]]:
    """name -> (path, httpx.post kwargs) of a good request to each endpoint that reads."""
    encoded = base64.b64encode(png).decode()
    return {"multipart": ("/v1/recognize", {"files": {"file": ("q.png", png, "image/png")}}),
            "json": ("/v1/recognize", {"json": {"image_base64": encoded}}),
            "batch": ("/v1/recognize/batch", {"json": {"images_base64": [encoded, "%%%"]}}),
            "strokes": ("/v1/recognize/strokes", {"json": {"strokes": STROKES}})}


def answers(response: httpx.Response) -> list[dict]:
    """The readings of a response: the body, or a batch's items that are not errors."""
    assert response.status_code == 200, response.text
    body = response.json()
    return [item for item in body if "error" not in item] if isinstance(body, list) else [body]


@pytest.mark.parametrize("unsure", ["too little ink to be a formula", None])
def test_unsure_comes_back_from_every_endpoint(start_server, png, unsure):
    fake = FixedPredictor(Prediction("x", 0.31, ("x",), unsure=unsure))
    with start_server(fake, ServeConfig(batch_wait_ms=1, timeout_s=10)) as server:
        for name, (path, kwargs) in requests(png).items():
            readings = answers(httpx.post(server.url + path, timeout=TIMEOUT, **kwargs))
            assert readings and all(r["unsure"] == unsure and r["latex"] == "x" for r in readings), (name, readings)
        batch = httpx.post(server.url + "/v1/recognize/batch", timeout=TIMEOUT,
                           json={"images_base64": ["%%%"]}).json()
        assert set(batch[0]) == {"error"}  # an unreadable item has no reading to doubt
        spec = httpx.get(server.url + "/openapi.json", timeout=TIMEOUT).json()
        field = spec["components"]["schemas"]["RecognizeResponse"]["properties"]["unsure"]
        assert "unsure" in spec["components"]["schemas"]["RecognizeResponse"]["required"]
        assert {"type": "null"} in field["anyOf"] and "trusted" in field["description"]


class ConcludingPredictor(FixedPredictor):
    """A predictor with its own rule for the answer from an input's views, as Predictor has."""

    def conclude(self, readings) -> Prediction:
        return replace(readings[0], confidence=0.25, unsure=f"only {len(readings)} views read it")


def test_the_answer_is_concluded_by_the_predictors_own_rule(start_server, png):
    """The server decodes each view on its own (batched with other requests), then concludes as
    Predictor.predict_views does: what the rule says about doubt reaches the client."""
    fake = ConcludingPredictor(Prediction("x", 0.9, ("x",)))
    with start_server(fake, ServeConfig(batch_wait_ms=1, timeout_s=10)) as server:
        for name, (path, kwargs) in requests(png).items():
            readings = answers(httpx.post(server.url + path, timeout=TIMEOUT, **kwargs))
            assert readings and all(r["confidence"] == 0.25 and r["unsure"].endswith("views read it")
                                    for r in readings), (name, readings)


def test_the_beam_range_is_the_servers_even_above_ten(start_server, png):
    fake = FixedPredictor(Prediction("x", 0.9, ("x",)))
    with start_server(fake, ServeConfig(batch_wait_ms=1, timeout_s=10, max_beam=12)) as server:
        ok = httpx.post(server.url + "/v1/recognize", timeout=TIMEOUT, data={"beam": "11"},
                        files={"file": ("q.png", png, "image/png")})
        assert ok.status_code == 200, ok.text
        assert fake.beams and set(fake.beams) == {11}
        for kwargs in ({"data": {"beam": "13"}, "files": {"file": ("q.png", png, "image/png")}},
                       {"json": {"image_base64": base64.b64encode(png).decode(), "beam": 13}},
                       {"json": {"image_base64": base64.b64encode(png).decode(), "beam": 0}}):
            response = httpx.post(server.url + "/v1/recognize", timeout=TIMEOUT, **kwargs)
            assert response.status_code == 422
            assert response.json()["detail"].startswith("beam: must be an integer from 1 to 12 (this server's limit)")
