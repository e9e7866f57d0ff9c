"""Dynamic batching: concurrent requests wait in one queue and are decoded in one model call.

Decoding a batch of N images costs far less than N single decodes on a CPU, so under load the
server collects what is queued (up to `max_batch` images, or until `batch_wait_ms` has passed
since the first one arrived) and runs `Predictor.predict` once in a worker thread; the event
loop keeps accepting requests meanwhile, and they form the next batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from mathlens.config import DecodeConfig
from mathlens.inference.predictor import Prediction

logger = logging.getLogger(__name__)


class BatchPredictor(Protocol):
    def predict(self, arrays: list[np.ndarray], cfg: DecodeConfig = ...) -> list[Prediction]: ...


@dataclass
class BatchStats:
    """Counters read by /health and /v1/stats (only the event loop thread writes them)."""

    num_batches: int = 0
    num_images: int = 0
    max_batch_size: int = 0
    batch_sizes: Counter[int] = field(default_factory=Counter)

    def record(self, size: int) -> None:
        self.num_batches += 1
        self.num_images += size
        self.max_batch_size = max(self.max_batch_size, size)
        self.batch_sizes[size] += 1


@dataclass
class _Job:
    array: np.ndarray
    cfg: DecodeConfig
    future: asyncio.Future[Prediction]


class DynamicBatcher:
    """Queue + one collector task; `await submit(array, cfg)` answers one image.

    Must be started and stopped inside the running event loop (the app's lifespan does it).
    """

    def __init__(self, predictor: BatchPredictor, max_batch: int, batch_wait_ms: float) -> None:
        self.predictor = predictor
        self.max_batch = max(1, max_batch)
        self.batch_wait_s = max(0.0, batch_wait_ms) / 1000.0
        self.stats = BatchStats()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        # One model call at a time: onnxruntime already uses every thread it was given.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mathlens-decode")
        self._task: asyncio.Task[None] | None = None

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="mathlens-batcher")

    async def stop(self) -> None:
        """Cancel the collector, fail what is still queued, and let the worker thread go."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.future.done():
                job.future.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, array: np.ndarray, cfg: DecodeConfig) -> Prediction:
        """Queue one preprocessed image; cancelling the caller (a timeout) drops it from the batch."""
        future: asyncio.Future[Prediction] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(array, cfg, future))
        return await future

    async def _run(self) -> None:
        while True:
            jobs = await self._collect()
            for cfg, group in _group_by_config(jobs).items():
                await self._decode(group, cfg)

    async def _collect(self) -> list[_Job]:
        """Wait for one job, then take more until the batch is full or the wait is over."""
        jobs = [await self._queue.get()]
        deadline = time.monotonic() + self.batch_wait_s
        while len(jobs) < self.max_batch:
            if not self._queue.empty():
                jobs.append(self._queue.get_nowait())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                jobs.append(await asyncio.wait_for(self._queue.get(), remaining))
            except asyncio.TimeoutError:
                break
        return [job for job in jobs if not job.future.done()]  # timed-out requests are skipped

    async def _decode(self, jobs: list[_Job], cfg: DecodeConfig) -> None:
        if not jobs:
            return
        arrays = [job.array for job in jobs]
        loop = asyncio.get_running_loop()
        try:
            preds = await loop.run_in_executor(self._executor, self.predictor.predict, arrays, cfg)
        except Exception as err:  # a model failure fails this batch, never the collector task
            logger.exception("model call failed for a batch of %d", len(jobs))
            _fail(jobs, err)
            return
        if len(preds) != len(jobs):
            _fail(jobs, RuntimeError(f"predictor returned {len(preds)} predictions for {len(jobs)} images"))
            return
        self.stats.record(len(jobs))
        logger.debug("decoded a batch of %d (beam %d)", len(jobs), cfg.beam_size)
        for job, pred in zip(jobs, preds):
            if not job.future.done():
                job.future.set_result(pred)


def _fail(jobs: list[_Job], err: BaseException) -> None:
    for job in jobs:
        if not job.future.done():
            job.future.set_exception(err)


def _group_by_config(jobs: list[_Job]) -> dict[DecodeConfig, list[_Job]]:
    """Jobs with different search settings (beam sizes) cannot share one model call."""
    groups: dict[DecodeConfig, list[_Job]] = {}
    for job in jobs:
        groups.setdefault(job.cfg, []).append(job)
    return groups
