"""The HTTP API end to end: real uvicorn on loopback, the real shipped model, real HTTP (httpx)."""

from __future__ import annotations

import asyncio
import base64
import io
import json

import httpx
import pytest
from PIL import Image

from mathlens.inference.preprocess import preprocess_views

TIMEOUT = httpx.Timeout(30.0)


@pytest.fixture(scope="module")
def good_png(fixtures) -> bytes:
    return (fixtures / "quadratic.png").read_bytes()


@pytest.fixture(scope="module")
def expected(predictor, good_png):
    """What the model says about the fixture when called directly (at the sizes its judge picks), without the server."""
    return predictor.predict_views([preprocess_views(good_png, predictor.preprocess_config, judge=predictor.judge)])[0]


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def post(server, path: str, **kwargs) -> httpx.Response:
    return httpx.post(server.url + path, timeout=TIMEOUT, **kwargs)


def stats(server) -> dict:
    return httpx.get(server.url + "/v1/stats", timeout=TIMEOUT).json()


def assert_good_answer(response: httpx.Response, expected, confidence_tol: float = 1e-6) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["latex"] == expected.latex and body["tokens"] == list(expected.tokens)
    assert body["confidence"] == pytest.approx(expected.confidence, rel=confidence_tol) and body["ms"] > 0
    if confidence_tol <= 1e-6:  # a doubt drawn from the confidence may change with it
        assert body["unsure"] == expected.unsure
    else:
        assert body["unsure"] is None or isinstance(body["unsure"], str)


def test_recognize_multipart_upload(server, good_png, expected):
    response = post(server, "/v1/recognize", files={"file": ("quadratic.png", good_png, "image/png")})
    assert_good_answer(response, expected)


def test_recognize_base64_json_and_data_url(server, good_png, expected):
    encoded = base64.b64encode(good_png).decode()
    assert_good_answer(post(server, "/v1/recognize", json={"image_base64": encoded, "beam": 3}), expected)
    assert_good_answer(post(server, "/v1/recognize", json={"image_base64": "data:image/png;base64," + encoded}),
                       expected)


def test_batch_answers_every_item_and_bad_ones_get_an_error(server, good_png, expected):
    files = [("files", ("a.png", good_png, "image/png")), ("files", ("notes.txt", b"not an image", "text/plain")),
             ("files", ("b.png", good_png, "image/png"))]
    response = post(server, "/v1/recognize/batch", files=files)
    assert response.status_code == 200, response.text
    good_a, bad, good_b = response.json()
    assert "not a recognised image" in bad["error"] and set(bad) == {"error"}
    assert good_a["latex"] == good_b["latex"] == expected.latex

    encoded = base64.b64encode(good_png).decode()
    response = post(server, "/v1/recognize/batch", json={"images_base64": ["%%%", encoded]})
    assert response.status_code == 200, response.text
    bad, good = response.json()
    assert "base64" in bad["error"] and good["latex"] == expected.latex


def _blank_png() -> bytes:
    return png_bytes(Image.new("RGB", (300, 80), "white"))


def _too_many_pixels_png() -> bytes:  # 4.4 MP against the test server's 4 MP limit; a few KB as PNG
    return png_bytes(Image.new("L", (2100, 2100), 255))


def _chunked(data: bytes):
    """A generator body: httpx sends it chunked, without Content-Length."""
    for start in range(0, len(data), 16384):
        yield data[start: start + 16384]


def _chunked_multipart(data: bytes) -> dict:
    """A multipart upload sent chunked, so only the streamed byte count can stop it."""
    request = httpx.Request("POST", "http://127.0.0.1/", files={"file": ("big.png", data, "image/png")})
    return {"content": _chunked(request.read()), "headers": {"content-type": request.headers["content-type"]}}


def bad_requests(good_png: bytes) -> dict[str, tuple[dict, int, str]]:
    """name -> (httpx.post kwargs, expected status, words in the detail)."""
    def upload(data: bytes, name: str = "x.png", mime: str = "image/png") -> dict:
        return {"files": {"file": (name, data, mime)}}

    return {
        "empty file": (upload(b""), 422, "empty"),
        "text file": (upload(b"hello, world\n", "notes.txt", "text/plain"), 422, "not a recognised image"),
        "truncated png": (upload(good_png[: len(good_png) // 2]), 422, "truncated"),
        "blank image": (upload(_blank_png()), 422, "blank"),
        "too many pixels": (upload(_too_many_pixels_png()), 422, "2100x2100 pixels"),
        "oversize upload": (upload(bytes(300_000)), 413, "too large"),
        "upload just over the limit": (upload(bytes(60_000)), 413, "too large"),
        "oversize chunked multipart": (_chunked_multipart(bytes(300_000)), 413, "too large"),
        "oversize chunked body": ({"content": _chunked(bytes(300_000)),
                                   "headers": {"content-type": "application/json"}}, 413, "too large"),
        "oversize base64": ({"json": {"image_base64": base64.b64encode(bytes(60_000)).decode()}}, 413, "too large"),
        "missing field": ({"files": {"picture": ("x.png", good_png, "image/png")}}, 422, "'file'"),
        "text instead of file": ({"files": {"file": (None, "quadratic.png")}}, 422, "file upload"),
        "form instead of multipart": ({"data": {"file": "quadratic.png"}}, 415, "content type"),
        "missing json field": ({"json": {"beam": 1}}, 422, "image_base64"),
        "unknown json field": ({"json": {"image_base64": "aGk=", "colour": "red"}}, 422, "colour"),
        "invalid json": ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "json"),
        "bad base64": ({"json": {"image_base64": "***"}}, 422, "base64"),
        "beam too large": ({"json": {"image_base64": "aGk=", "beam": 9}}, 422, "beam"),
        "wrong content type": ({"content": good_png, "headers": {"content-type": "image/png"}}, 415, "content type"),
    }


@pytest.mark.parametrize("case", list(bad_requests(b"")))
def test_bad_input_gets_a_clear_4xx_and_the_server_goes_on(server, good_png, expected, case):
    kwargs, status, words = bad_requests(good_png)[case]
    response = post(server, "/v1/recognize", **kwargs)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and words.lower() in detail.lower(), detail
    assert_good_answer(post(server, "/v1/recognize", files={"file": ("q.png", good_png, "image/png")}), expected)


BEAM_CASES = {
    "multipart 99": ("/v1/recognize", {"data": {"beam": "99"}}, "got 99"),
    "multipart 0": ("/v1/recognize", {"data": {"beam": "0"}}, "got 0"),
    "multipart 6": ("/v1/recognize", {"data": {"beam": "6"}}, "got 6"),
    "multipart words": ("/v1/recognize", {"data": {"beam": "three"}}, "got 'three'"),
    "multipart superscript": ("/v1/recognize", {"data": {"beam": "\u00b2"}}, "got"),  # str.isdigit() says yes
    "multipart 10,000 digits": ("/v1/recognize", {"data": {"beam": "9" * 10_000}}, "10,000 characters"),
    "multipart batch 99": ("/v1/recognize/batch", {"data": {"beam": "99"}}, "got 99"),
    "json 99": ("/v1/recognize", {"json": {"beam": 99}}, "got 99"),
    "json 0": ("/v1/recognize", {"json": {"beam": 0}}, "got 0"),
    "json huge": ("/v1/recognize", {"json": {"beam": 10**40}}, "a larger number"),
    "json batch 99": ("/v1/recognize/batch", {"json": {"beam": 99}}, "got 99"),
    "json strokes 99": ("/v1/recognize/strokes", {"json": {"beam": 99, "strokes": [[[0, 0], [5, 5]]]}}, "got 99"),
}


@pytest.mark.parametrize("case", list(BEAM_CASES))
def test_a_beam_out_of_range_is_answered_with_this_servers_limit(server, good_png, case):
    path, kwargs, got = BEAM_CASES[case]
    if "data" in kwargs:  # multipart: the image as a file beside the beam field
        kwargs = {**kwargs, "files": {"files" if path.endswith("batch") else "file": ("q.png", good_png, "image/png")}}
    elif path != "/v1/recognize/strokes":
        encoded = base64.b64encode(good_png).decode()
        kwargs = {"json": {**kwargs["json"], **({"images_base64": [encoded]} if path.endswith("batch")
                                                else {"image_base64": encoded})}}
    response = post(server, path, **kwargs)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith(f"beam: must be an integer from 1 to {server.cfg.max_beam} (this server's limit)")
    assert got in detail, detail


def test_batch_limits(server, good_png):
    too_many = [base64.b64encode(good_png).decode()] * (server.cfg.max_batch_items + 1)
    response = post(server, "/v1/recognize/batch", json={"images_base64": too_many})
    assert response.status_code == 422 and "too many images" in response.json()["detail"]
    response = post(server, "/v1/recognize/batch", json={"images_base64": []})
    assert response.status_code == 422
    response = post(server, "/v1/recognize/batch", files=[("files", ("big.png", bytes(60_000), "image/png")),
                                                           ("files", ("q.png", good_png, "image/png"))])
    assert response.status_code == 200
    big, good = response.json()
    assert "too large" in big["error"] and good["latex"]


def test_health_version_and_openapi(server, predictor):
    health = httpx.get(server.url + "/health", timeout=TIMEOUT)
    assert health.status_code == 200 and health.json()["model_loaded"] is True
    version = httpx.get(server.url + "/version", timeout=TIMEOUT).json()
    meta = json.loads((predictor.model_dir / "model.json").read_text())
    assert version["mathlens"] == __import__("mathlens").__version__
    assert version["model"]["vocab_size"] == len(predictor.vocab) == meta["model_config"]["vocab_size"]
    assert version["model"]["quantized"] == meta.get("quantized")

    spec = httpx.get(server.url + "/openapi.json", timeout=TIMEOUT).json()
    assert {"/v1/recognize", "/v1/recognize/batch", "/health", "/version", "/v1/stats"} <= set(spec["paths"])
    body = spec["paths"]["/v1/recognize"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    assert "image_base64" in body["application/json"]["schema"]["properties"]
    limit = {"type": "integer", "minimum": 1, "maximum": server.cfg.max_beam}  # this server's, not a fixed one
    assert body["application/json"]["schema"]["properties"]["beam"]["anyOf"][0] == limit
    assert {k: body["multipart/form-data"]["schema"]["properties"]["beam"][k] for k in limit} == limit
    assert {"RecognizeResponse", "ItemError", "ErrorResponse", "VersionResponse"} <= set(spec["components"]["schemas"])


def test_docs_load_swagger_ui_from_this_server(server):
    """/docs names only this server's files (a browser test proves they render with no network)."""
    from mathlens.server.app import SWAGGER_DIR, SWAGGER_FILES

    assert all((SWAGGER_DIR / name).is_file() for name in SWAGGER_FILES), "run scripts/install-web-assets.sh"
    docs = httpx.get(server.url + "/docs", timeout=TIMEOUT)
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text and "/openapi.json" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    for name in SWAGGER_FILES:
        assert httpx.get(f"{server.url}/static/vendor/swagger-ui/{name}", timeout=TIMEOUT).status_code == 200
    assert httpx.get(server.url + "/redoc", timeout=TIMEOUT).status_code == 404  # it would need a CDN


def test_docs_without_the_vendor_files_say_how_to_install_them(server, monkeypatch, tmp_path):
    monkeypatch.setattr("mathlens.server.app.SWAGGER_DIR", tmp_path)  # the server runs in this process
    docs = httpx.get(server.url + "/docs", timeout=TIMEOUT)
    assert docs.status_code == 503 and "text/html" in docs.headers["content-type"]
    assert "scripts/install-web-assets.sh" in docs.text and "swagger-ui-bundle.js" in docs.text


async def _recognize_concurrently(url: str, png: bytes, num_requests: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        return await asyncio.gather(*(client.post(url + "/v1/recognize", files={"file": (f"{i}.png", png, "image/png")})
                                      for i in range(num_requests)))


def test_concurrent_requests_are_decoded_in_batches(server, good_png, expected):
    before = stats(server)["batch_sizes"]
    responses = asyncio.run(_recognize_concurrently(server.url, good_png, 16))
    for response in responses:  # a view batched with other sizes is padded: its confidence moves a little
        assert_good_answer(response, expected, confidence_tol=0.02)
    after = stats(server)
    multi_before = sum(n for size, n in before.items() if int(size) > 1)
    multi_after = sum(n for size, n in after["batch_sizes"].items() if int(size) > 1)
    assert multi_after > multi_before, after  # at least one model call decoded several requests
    assert after["max_batch_size"] > 1 and after["queue_depth"] == 0 and after["rss_bytes"] > 10_000_000
    assert httpx.get(server.url + "/health", timeout=TIMEOUT).json()["max_batch_size"] > 1
