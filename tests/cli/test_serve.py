"""`mathlens serve` end to end: a real subprocess with the shipped model, real HTTP, clean shutdown."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen) -> httpx.Response:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}: {process.stderr.read() if process.stderr else ''}")
        try:
            return httpx.get(url + "/health", timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("server did not become healthy in time")


@pytest.fixture
def served(tmp_path):
    """`mathlens serve` on a free port; stopped with SIGINT (Ctrl-C) at the end, killed if it hangs."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "mathlens.cli.main", "serve", "--port", str(port),
                                    "--max-upload-mb", "1", "--max-batch", "4", "--threads", "1"],
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        yield url, process, log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_serve_answers_over_http_and_stops_cleanly(served, fixtures):
    url, process, log_path = served
    health = wait_until_healthy(url, process)
    assert health.status_code == 200 and health.json()["model_loaded"] is True
    png = (fixtures / "quadratic.png").read_bytes()
    response = httpx.post(url + "/v1/recognize", files={"file": ("q.png", png, "image/png")}, timeout=30)
    assert response.status_code == 200 and response.json()["latex"]
    bad = httpx.post(url + "/v1/recognize", files={"file": ("e.png", b"", "image/png")}, timeout=30)
    assert bad.status_code == 422 and bad.json() == {"detail": "empty file"}
    assert httpx.get(url + "/version", timeout=5).json()["model"]["max_batch"] == 4

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0
    log = log_path.read_text()
    assert "Uvicorn running on http://127.0.0.1" in log and "Traceback" not in log


@pytest.mark.parametrize(("flags", "message"), [(["--max-batch=0"], "must be positive"),
                                              (["--timeout-s=-1"], "must be positive"),
                                              (["--max-upload-mb=0"], "must be positive"),
                                              (["--max-pdf-pages=0"], "must be positive: --max-pdf-pages"),
                                              (["--beam=4", "--max-beam=3"], "above --max-beam")])
def test_serve_refuses_impossible_settings(flags, message):
    result = subprocess.run([sys.executable, "-m", "mathlens.cli.main", "serve", *flags], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr


def test_the_page_limits_reach_the_server_config():
    import argparse

    from mathlens.cli.serve import add_parser, config_from_args

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["serve", "--max-pdf-pages", "5", "--max-page-upload-mb", "8", "--page-dpi", "120"])
    cfg = config_from_args(args)
    assert (cfg.max_pdf_pages, cfg.max_page_upload_mb, cfg.page_dpi) == (5, 8.0, 120.0)
