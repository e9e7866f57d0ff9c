"""Ink over HTTP: POST /v1/recognize/strokes and InkML uploads to /v1/recognize, and the page's files.

Real uvicorn on loopback with the real shipped model (the `server` fixture of conftest.py); the
answers must equal what the model says about the same ink drawn without the server.
"""

from __future__ import annotations

import httpx
import pytest

from mathlens.inference.inkml import Ink, strokes_from_lists
from mathlens.inference.preprocess import preprocess_views

TIMEOUT = httpx.Timeout(30.0)
PLUS_ONE = [[[100, 120], [112, 100], [112, 160]], [[140, 130], [170, 130]], [[155, 115], [155, 145]],
            [[190, 120], [202, 100], [202, 160]]]


def post(server, path: str, **kwargs) -> httpx.Response:
    return httpx.post(server.url + path, timeout=TIMEOUT, **kwargs)


def assert_answer(response: httpx.Response, expected) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["latex"] == expected.latex and body["tokens"] == list(expected.tokens)
    assert body["confidence"] == pytest.approx(expected.confidence) and body["ms"] > 0
    assert body["unsure"] == expected.unsure


@pytest.fixture(scope="module")
def strokes_expected(predictor):
    return predictor.predict_views([preprocess_views(Ink(strokes_from_lists(PLUS_ONE)), predictor.preprocess_config)])[0]


def test_strokes_are_drawn_and_recognized(server, strokes_expected):
    assert_answer(post(server, "/v1/recognize/strokes", json={"strokes": PLUS_ONE, "beam": 3}), strokes_expected)
    assert_answer(post(server, "/v1/recognize/strokes", json={"strokes": PLUS_ONE}), strokes_expected)


@pytest.mark.parametrize("name", ["one_plus_one.crohme.inkml", "x_equals_0.mathwriting.inkml"])
def test_inkml_upload_is_recognized(server, predictor, fixtures, name):
    data = (fixtures / "inkml" / name).read_bytes()
    expected = predictor.predict_views([preprocess_views(data, predictor.preprocess_config)])[0]
    assert_answer(post(server, "/v1/recognize", files={"file": (name, data, "application/inkml+xml")}), expected)
    response = post(server, "/v1/recognize/batch", files=[("files", (name, data, "application/octet-stream"))])
    assert response.status_code == 200 and response.json()[0]["latex"] == expected.latex


BAD_STROKES = {
    "no strokes": ({"json": {"strokes": []}}, 422, "strokes"),
    "empty stroke": ({"json": {"strokes": [[]]}}, 422, "stroke 0"),
    "point of one number": ({"json": {"strokes": [[[1, 2], [3]]]}}, 422, "stroke 0"),
    "points with a time": ({"json": {"strokes": [[[x, y, 10.0 * i] for i, (x, y) in enumerate(stroke)]
                                                 for stroke in PLUS_ONE]}}, 422, "two numbers"),  # or depth: refused
    "not a list": ({"json": {"strokes": "x"}}, 422, "strokes"),
    "text coordinates": ({"json": {"strokes": [[["a", "b"]]]}}, 422, "valid number"),
    "missing strokes": ({"json": {"beam": 1}}, 422, "strokes"),
    "unknown field": ({"json": {"strokes": PLUS_ONE, "colour": "red"}}, 422, "colour"),
    "beam too large": ({"json": {"strokes": PLUS_ONE, "beam": 9}}, 422, "beam"),
    "invalid json": ({"content": b"[[1, 2", "headers": {"content-type": "application/json"}}, 422, "json"),
    "huge coordinates": ({"json": {"strokes": [[[1e308, 1e308], [-1e308, -1e308]]]}}, 422, "out of range"),
    "tiny strokes far apart": ({"json": {"strokes": [[[x, y], [x + 1, y + 1]] for x in (0, 600) for y in (0, 600)]}},
                               422, "ink too large"),
    "body over the limit": ({"json": {"strokes": [[[i % 50, i // 50] for i in range(200_001)]]}}, 413, "too large"),
    "multipart": ({"files": {"file": ("x.png", b"\x89PNG", "image/png")}}, 415, "application/json"),
}


@pytest.mark.parametrize("case", list(BAD_STROKES))
def test_bad_strokes_get_a_clear_4xx(server, strokes_expected, case):
    kwargs, status, words = BAD_STROKES[case]
    response = post(server, "/v1/recognize/strokes", **kwargs)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and words.lower() in detail.lower(), detail
    assert_answer(post(server, "/v1/recognize/strokes", json={"strokes": PLUS_ONE}), strokes_expected)


BAD_INKML = {
    "unclosed": (b"<ink><trace>1 2, 3 4", "malformed InkML"),
    "xml declaration, unclosed": (b"<?xml version='1.0'?>\n<ink><trace>1 2", "malformed InkML"),
    "no traces": (b"<ink xmlns='http://www.w3.org/2003/InkML'></ink>", "no strokes"),
    "bad point": (b"<ink><trace>1 2, x y</trace></ink>", "cannot read point"),
    "tiny strokes far apart": (b"<ink>" + b"".join(b"<trace>%d %d, %d %d</trace>" % (x, y, x + 1, y + 1)
                                                   for x in (0, 600) for y in (0, 600)) + b"</ink>", "ink too large"),
}


@pytest.mark.parametrize("case", list(BAD_INKML))
def test_malformed_inkml_upload_is_a_422(server, case):
    data, words = BAD_INKML[case]
    response = post(server, "/v1/recognize", files={"file": ("x.inkml", data, "application/inkml+xml")})
    assert response.status_code == 422, response.text
    assert words.lower() in response.json()["detail"].lower()


def test_page_and_its_files_are_served(server):
    page = httpx.get(server.url + "/", timeout=TIMEOUT)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("static/app.js", "static/style.css"):
        assert name in page.text
        assert httpx.get(f"{server.url}/{name}", timeout=TIMEOUT).status_code == 200
    paths = httpx.get(server.url + "/openapi.json", timeout=TIMEOUT).json()["paths"]
    assert "/v1/recognize/strokes" in paths and "/" not in paths
