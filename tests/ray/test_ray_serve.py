"""`mathlens serve --ray`: the FastAPI app on 2 Ray Serve replicas, real HTTP through Serve's proxy."""

from __future__ import annotations

import asyncio
import base64
import socket
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mathlens.config import DecodeConfig, ServeConfig
from mathlens.inference.preprocess import preprocess_views

# Ray Serve itself still uses pydantic v1-style Field arguments.
pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20")]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(ray_cluster):
    from ray import serve

    from mathlens.server.ray_app import APP_NAME, build_app

    port = free_port()
    # Half a CPU per replica: both fit on the 2-CPU test cluster next to the Ray Data actors.
    cfg = ServeConfig(threads=1, max_batch=8, batch_wait_ms=20, max_upload_mb=0.5, timeout_s=30)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    try:
        serve.run(build_app(cfg, 2, num_cpus_per_replica=0.5), name=APP_NAME, route_prefix="/")
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()


def test_two_replicas_answer_concurrent_requests(served, fixtures):
    from ray import serve

    from mathlens.server.ray_app import APP_NAME

    deployment = serve.status().applications[APP_NAME].deployments["Recognizer"]
    assert deployment.replica_states == {"RUNNING": 2}
    png = (fixtures / "quadratic.png").read_bytes()
    encoded = base64.b64encode(png).decode()

    def post(i: int) -> httpx.Response:
        kwargs = ({"files": {"file": ("q.png", png, "image/png")}} if i % 2 else {"json": {"image_base64": encoded}})
        return httpx.post(served + "/v1/recognize", timeout=60, **kwargs)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(post, range(16)))
    assert [r.status_code for r in responses] == [200] * 16
    bodies = [r.json() for r in responses]
    assert all(b["latex"] and 0.0 <= b["confidence"] <= 1.0 for b in bodies)
    assert all(b["unsure"] is None or isinstance(b["unsure"], str) for b in bodies)
    assert len({b["latex"] for b in bodies}) == 1  # same image, same answer, whichever replica and batch
    stats = httpx.get(served + "/v1/stats", timeout=10).json()  # one replica's counters
    assert stats["num_images"] >= 1 and stats["num_batches"] >= 1 and stats["num_errors"] == 0


def test_bad_requests_get_4xx_with_a_message(served):
    bad = httpx.post(served + "/v1/recognize", files={"file": ("x.png", b"not an image", "image/png")}, timeout=30)
    assert bad.status_code == 422 and "image" in bad.json()["detail"]
    assert httpx.post(served + "/v1/recognize", json={"image_base64": "%%%"}, timeout=30).status_code == 422
    assert httpx.post(served + "/v1/recognize", content=b"x", headers={"content-type": "text/plain"},
                      timeout=30).status_code == 415
    too_big = httpx.post(served + "/v1/recognize", files={"file": ("big.png", b"\0" * 600_000, "image/png")},
                         timeout=30)
    assert too_big.status_code == 413


def test_health_and_docs(served):
    health = httpx.get(served + "/health", timeout=10)
    assert health.status_code == 200 and health.json()["model_loaded"] is True
    docs = httpx.get(served + "/docs", timeout=10)  # Swagger UI from the replica's own files, no CDN
    assert docs.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert httpx.get(served + "/static/vendor/swagger-ui/swagger-ui-bundle.js", timeout=10).status_code == 200


def test_app_decodes_through_the_serve_batcher(predictor, fixtures):
    """decode_with reroutes create_app's decoding (no cluster: the seam Ray Serve relies on)."""
    from mathlens.server.app import create_app
    from mathlens.server.ray_app import ServeBatcher, decode_with

    calls = []

    async def decode(array, cfg):
        calls.append(cfg.beam_size)
        return predictor.predict([array], cfg)[0]

    app = create_app(predictor, ServeConfig(threads=1))
    batcher = ServeBatcher(decode)
    decode_with(app, batcher)
    png = (fixtures / "quadratic.png").read_bytes()

    async def request() -> httpx.Response:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                return await client.post("/v1/recognize", files={"file": ("q.png", png, "image/png")},
                                         data={"beam": "2"})

    response = asyncio.run(request())
    assert response.status_code == 200 and response.json()["latex"]
    # The predictor's own answer from the same readings (each view alone), doubt included.
    decode = DecodeConfig(beam_size=2)
    views = preprocess_views(png, predictor.preprocess_config, judge=predictor.judge)  # print: once
    assert calls == [2] * len(views) and batcher.queue_depth == 0
    expected = predictor.conclude([predictor.predict([view], decode)[0] for view in views])
    body = response.json()
    assert (body["latex"], body["unsure"]) == (expected.latex, expected.unsure)
    assert body["confidence"] == pytest.approx(expected.confidence, rel=1e-6)
