"""A real uvicorn server on a free loopback port, in a thread, with bounded start and stop waits."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from mathlens.config import ServeConfig

START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class RunningServer:
    url: str
    cfg: ServeConfig


@contextmanager
def serve_in_thread(predictor, cfg: ServeConfig) -> Iterator[RunningServer]:
    """create_app(predictor, cfg) under uvicorn on 127.0.0.1; the socket is bound first, so no port race."""
    import uvicorn

    from mathlens.server.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(predictor, cfg), log_config=None, access_log=False,
                                           timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", cfg)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="session")
def start_server():
    """`with start_server(predictor, cfg) as server:` for tests that need their own settings."""
    return serve_in_thread


@pytest.fixture(scope="session")
def predictor():
    """The real shipped model, loaded once for every server test."""
    from mathlens.inference.predictor import Predictor, default_model_dir

    return Predictor(default_model_dir(), num_threads=2, max_batch_size=16)


@pytest.fixture(scope="module")
def server(predictor) -> Iterator[RunningServer]:
    # Small upload and pixel limits so the 413/422 paths are cheap to reach; a longer batch
    # wait so that the concurrency test forms batches even on a loaded machine.
    cfg = ServeConfig(max_upload_mb=0.05, max_pixels=4_000_000, batch_wait_ms=20, timeout_s=30, max_batch=16)
    with serve_in_thread(predictor, cfg) as running:
        yield running
