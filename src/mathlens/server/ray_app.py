"""Ray Serve: `mathlens serve --ray`, the HTTP API on N replicas spread over a Ray cluster.

Each replica loads one Predictor and mounts the FastAPI app of `mathlens serve` (`create_app`)
unchanged, through a late-bound `@serve.ingress`: routes, request parsing, limits, status codes,
/docs and the web page are those of the single-machine server. Only decoding differs: the app's
images go through `@serve.batch` (ServeConfig.max_batch, batch_wait_ms) instead of the app's
in-process batcher. Ray Serve's proxy spreads requests over the replicas; each replica batches
what it receives, and /health and /v1/stats count that replica only.

Replica count and resources are set with `.options()` in `build_app`, never at import. Needs the
`serve` and `ray` extras, and Ray >= 2.56 (`__serve_build_asgi_app__`, the late-bound ingress).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import ray
from fastapi import FastAPI
from ray import serve

from mathlens.config import DecodeConfig, ServeConfig
from mathlens.errors import MathlensError
from mathlens.inference.predictor import Prediction, Predictor
from mathlens.server.app import create_app
from mathlens.server.batcher import BatchStats

logger = logging.getLogger(__name__)

APP_NAME = "mathlens"
MIN_RAY_VERSION = "2.56"


def require_ray_version() -> None:
    """Refuse, with the fix, a Ray whose serve.ingress cannot take the app from the replica."""
    if inspect.signature(serve.ingress).parameters["app"].default is not None:
        raise MathlensError(f"Ray {ray.__version__} is too old for mathlens on Ray Serve: "
                            f"pip install 'ray[serve,data]>={MIN_RAY_VERSION}'")


require_ray_version()  # before the decorators below, which would fail with an obscure error


class ServeBatcher:
    """What the app's handlers use of their DynamicBatcher (submit, stats, queue_depth), backed by
    a replica's `@serve.batch` method."""

    def __init__(self, decode: Callable[[np.ndarray, DecodeConfig], Awaitable[Prediction]]) -> None:
        self._decode = decode
        self.stats = BatchStats()
        self.num_in_flight = 0

    @property
    def queue_depth(self) -> int:
        """Images queued or being decoded in this replica."""
        return self.num_in_flight

    async def submit(self, array: np.ndarray, cfg: DecodeConfig) -> Prediction:
        self.num_in_flight += 1
        try:
            return await self._decode(array, cfg)
        finally:
            self.num_in_flight -= 1


def decode_with(app: FastAPI, batcher: ServeBatcher) -> None:
    """Make `app` (from create_app) decode through `batcher` once its lifespan has set up its state.

    The app's own batcher is still started and stopped by its lifespan; it just gets no work.
    """
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(inner: Any) -> AsyncIterator[Any]:
        async with started(inner) as state:
            server_state = getattr(inner.state, "mathlens", None)
            if server_state is None or not hasattr(server_state, "batcher"):
                raise RuntimeError("create_app no longer keeps its batcher on app.state.mathlens; "
                                   "update mathlens.server.ray_app.decode_with")
            server_state.batcher = batcher
            yield state

    app.router.lifespan_context = lifespan


@serve.deployment(name="Recognizer")
@serve.ingress()
class RecognizerDeployment:
    """One replica: the Predictor, its `@serve.batch` decoding, and the FastAPI app around them."""

    def __init__(self, cfg: ServeConfig) -> None:
        self.cfg = cfg
        self.predictor = Predictor(cfg.model_dir, num_threads=cfg.threads, max_batch_size=cfg.max_batch)
        # Ray's type stubs describe @serve.batch on one-argument functions only, hence Any.
        decode_batch: Any = self._decode_batch  # type: ignore[misc]
        self.batcher = ServeBatcher(decode_batch)
        # @serve.batch settings come from the config here, not from the decorator at import.
        decode_batch.set_max_batch_size(max(1, cfg.max_batch))
        decode_batch.set_batch_wait_timeout_s(max(0.0, cfg.batch_wait_ms) / 1000.0)
        # One model call at a time, off the event loop that keeps reading requests.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mathlens-decode")

    def __serve_build_asgi_app__(self) -> FastAPI:
        app = create_app(self.predictor, self.cfg)
        decode_with(app, self.batcher)
        return app

    @serve.batch  # type: ignore[arg-type]
    async def _decode_batch(  # type: ignore[misc]
            self, arrays: list[np.ndarray], cfgs: list[DecodeConfig]) -> list[Prediction]:
        """Concurrent single images in; one model call per distinct search setting (beam size)."""
        groups: dict[DecodeConfig, list[int]] = {}
        for i, cfg in enumerate(cfgs):
            groups.setdefault(cfg, []).append(i)
        results: list[Prediction | None] = [None] * len(arrays)
        loop = asyncio.get_running_loop()
        for cfg, idx in groups.items():
            preds = await loop.run_in_executor(self._executor, self.predictor.predict, [arrays[i] for i in idx], cfg)
            if len(preds) != len(idx):
                raise RuntimeError(f"predictor returned {len(preds)} predictions for {len(idx)} images")
            self.batcher.stats.record(len(idx))
            for i, pred in zip(idx, preds):
                results[i] = pred
        return [r for r in results if r is not None]


def build_app(cfg: ServeConfig, num_replicas: int, *, num_cpus_per_replica: float | None = None,
              max_ongoing_requests: int | None = None, access_log: bool = False) -> serve.Application:
    """The bound Serve application: `serve.run(build_app(cfg, 4))`.

    Each replica reserves `num_cpus_per_replica` CPUs (default: cfg.threads, its onnxruntime
    threads) and takes up to `max_ongoing_requests` requests at once (default: 2 x cfg.max_batch,
    so that a batch can form while the previous one decodes). Replicas log one line per request
    only with `access_log` (as `mathlens serve -v`).
    """
    if num_replicas < 1:
        raise MathlensError(f"replicas: at least 1, got {num_replicas}")
    num_cpus = float(cfg.threads) if num_cpus_per_replica is None else num_cpus_per_replica
    if num_cpus < 0:
        raise MathlensError(f"CPUs per replica: must not be negative, got {num_cpus:g}")
    ongoing = max_ongoing_requests or max(2 * cfg.max_batch, 4)
    options = RecognizerDeployment.options  # type: ignore[attr-defined]  # the decorators made it a Deployment
    deployment = options(num_replicas=num_replicas, max_ongoing_requests=ongoing,
                         ray_actor_options={"num_cpus": num_cpus}, logging_config={"enable_access_log": access_log})
    return deployment.bind(cfg)


def connect(address: str | None) -> bool:
    """Join the Ray cluster at `address` ("auto", "ray://host:10001"), or start a local one.

    Returns True when a local instance was started here (and should be shut down with us).
    """
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address or "local", logging_level=logging.WARNING)
    except ConnectionError as err:
        raise MathlensError(f"cannot reach a Ray cluster at {address!r}: {err}") from None
    return address is None


def serve_until_interrupted(cfg: ServeConfig, num_replicas: int, *, address: str | None = None,
                            num_cpus_per_replica: float | None = None, access_log: bool = False) -> None:
    """`mathlens serve --ray`: deploy, answer on http://cfg.host:cfg.port until Ctrl-C or SIGTERM, clean up.

    The application is deleted on exit, also from a cluster that was already running; a local
    Ray instance started here is shut down.
    """
    app = build_app(cfg, num_replicas, num_cpus_per_replica=num_cpus_per_replica, access_log=access_log)
    started_local = connect(address)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve.start(http_options={"host": cfg.host, "port": cfg.port})
        serve.run(app, name=APP_NAME, route_prefix="/")
        logger.info("serving %d replica(s) on http://%s:%d (Ray %s%s); Ctrl-C stops", num_replicas, cfg.host,
                    cfg.port, ray.__version__, "" if address is None else f", cluster {address}")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        logger.info("stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(started_local)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _stop(started_local: bool) -> None:
    try:
        if started_local:
            serve.shutdown()
        else:
            serve.delete(APP_NAME)
    finally:
        if started_local:
            ray.shutdown()
