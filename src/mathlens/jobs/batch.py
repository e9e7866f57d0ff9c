"""Batch jobs over many images: results appended to a JSONL or CSV file, resumable, multi-process.

A result is written (and flushed) as soon as its chunk is decoded, so an interrupted run loses
at most the chunks in flight; rerunning the same command skips every path already in the file.
"""

from __future__ import annotations

import csv
import json
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from mathlens.config import DEFAULT_BEAM

logger = logging.getLogger(__name__)

CSV_FIELDS = ("path", "latex", "confidence", "error")


@dataclass(frozen=True)
class JobSettings:
    model_dir: Path | None = None
    beam_size: int = DEFAULT_BEAM
    threads: int = 2
    chunk_size: int = 32
    views: bool = True


def result_record(path: Path, pred: Any) -> dict[str, Any]:
    if pred.error is not None:
        return {"path": str(path), "error": pred.error}
    return {"path": str(path), "latex": pred.latex, "confidence": pred.confidence}


def done_paths(output: Path) -> set[str]:
    """Paths that already have a complete result line in `output` (a torn last line is ignored)."""
    if not output.exists():
        return set()
    done = set()
    with output.open(encoding="utf-8", newline="") as f:
        if output.suffix.lower() == ".csv":
            done = {row["path"] for row in csv.DictReader(f) if row.get("path")}
        else:
            for line in f:
                try:
                    done.add(json.loads(line)["path"])
                except (json.JSONDecodeError, KeyError):
                    continue
    return done


class ResultWriter:
    """Appends records to JSONL or CSV (chosen by suffix), flushing after each chunk."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.is_csv = output.suffix.lower() == ".csv"
        output.parent.mkdir(parents=True, exist_ok=True)
        _drop_torn_last_line(output)
        new_file = not output.exists() or output.stat().st_size == 0
        self.file: TextIO = output.open("a", encoding="utf-8", newline="")
        self.csv = csv.DictWriter(self.file, CSV_FIELDS) if self.is_csv else None
        if self.csv is not None and new_file:
            self.csv.writeheader()

    def write(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            if self.csv is not None:
                self.csv.writerow({k: record.get(k, "") for k in CSV_FIELDS})
            else:
                self.file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()


def _drop_torn_last_line(output: Path) -> None:
    """A run killed mid-write can leave half a line; cut it so the file stays parseable."""
    if not output.exists() or output.stat().st_size == 0:
        return
    data = output.read_bytes()
    if not data.endswith(b"\n"):
        output.write_bytes(data[: data.rfind(b"\n") + 1])


_worker_recognizer: Any = None


def _init_worker(settings: JobSettings) -> None:
    global _worker_recognizer  # one model per worker process, loaded once
    from mathlens.api import Recognizer

    _worker_recognizer = Recognizer(settings.model_dir, beam_size=settings.beam_size, num_threads=settings.threads,
                                    views=settings.views)


def _recognize_chunk(paths: list[Path]) -> list[dict[str, Any]]:
    preds = _worker_recognizer.recognize_batch(paths, errors="return")
    return [result_record(p, pred) for p, pred in zip(paths, preds)]


def run_batch(paths: list[Path], settings: JobSettings, workers: int = 1) -> Iterator[list[dict[str, Any]]]:
    """Yield result chunks; with workers > 1 each process runs its own model (threads each)."""
    chunks = [paths[i: i + settings.chunk_size] for i in range(0, len(paths), settings.chunk_size)]
    if workers <= 1:
        _init_worker(settings)
        for chunk in chunks:
            yield _recognize_chunk(chunk)
        return
    # spawn, not fork: a forked child can inherit a parent's onnxruntime thread pool mid-lock and hang
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=spawn, initializer=_init_worker, initargs=(settings,)) as pool:
        yield from pool.map(_recognize_chunk, chunks)


def run_to_file(paths: list[Path], output: Path, settings: JobSettings, workers: int = 1,
                progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Resume-aware job: returns (number newly done, number skipped as already in `output`)."""
    done = done_paths(output)
    todo = [p for p in paths if str(p) not in done]
    writer = ResultWriter(output)
    try:
        for records in run_batch(todo, settings, workers):
            writer.write(records)
            if progress:
                progress(len(records))
    finally:
        writer.close()
    return len(todo), len(paths) - len(todo)
