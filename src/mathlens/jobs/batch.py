"""Batch jobs over many images: results appended to a JSONL or CSV file, resumable, multi-process.

A result is written (and flushed) as soon as its chunk is decoded, so an interrupted run loses
at most the chunks in flight. Rerunning the same command skips every path already read, and
tries again the paths whose line is an error (a file since fixed, a disk that was unmounted):
the new line is appended, so a path can have several lines, and the last line of a path is its
result (`latest_records`). The Ray Data job (`ray_batch.py`) follows the same rule.

One line per input: {"path", "latex", "confidence"} with "unsure" added when the reading should
not be trusted (why), or {"path", "error"}; a CSV has the columns CSV_FIELDS, empty where absent.
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
from typing import Any, BinaryIO, TextIO

from mathlens.config import DEFAULT_BEAM
from mathlens.errors import MathlensError

logger = logging.getLogger(__name__)

CSV_FIELDS = ("path", "latex", "confidence", "unsure", "error")


@dataclass(frozen=True)
class JobSettings:
    model_dir: Path | None = None
    beam_size: int = DEFAULT_BEAM
    threads: int = 2
    chunk_size: int = 32
    views: bool = True
    page_check: bool = False  # ask the page detector whether a picture is text around a formula (pages/guard.py)
    vlm: Any = None  # a mathlens.vlm.backend.VlmConfig: a vision-language model reads instead of the small one


@dataclass(frozen=True)
class JobSummary:
    num_read: int  # inputs of this run that got a reading
    num_failed: int  # inputs of this run that could not be read (an {"error"} line; a rerun tries them again)
    num_skipped: int  # already read by an earlier run

    def describe(self, output: Path) -> str:
        """What a job command says when it ends: "3 read, 2 failed, 5 already in out.jsonl"."""
        return f"{self.num_read} read, {self.num_failed} failed, {self.num_skipped} already in {output}"


def result_record(path: Path, pred: Any) -> dict[str, Any]:
    """A Prediction as one output line; "unsure" only when set, so a plain reading stays three fields."""
    if pred.error is not None:
        return {"path": str(path), "error": pred.error}
    record = {"path": str(path), "latex": pred.latex, "confidence": pred.confidence}
    if pred.unsure:
        record["unsure"] = pred.unsure
    return record


def latest_records(output: Path) -> dict[str, dict[str, Any]]:
    """Each path's last complete line in `output` (JSONL or CSV): its result, by the resume rule.

    A torn last line is ignored; CSV rows come back without their empty columns.
    """
    if not output.exists():
        return {}
    latest: dict[str, dict[str, Any]] = {}
    with output.open("rb") as f:
        lines = _complete_lines(f)
        if output.suffix.lower() == ".csv":
            for row in csv.DictReader(lines):
                record = {k: v for k, v in row.items() if k is not None and v}
                if record.get("path"):
                    latest[record["path"]] = record
            return latest
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and isinstance(record.get("path"), str):
                latest[record["path"]] = record
    return latest


def _complete_lines(f: BinaryIO) -> Iterator[str]:
    """The lines of a file that end in a newline: a run killed mid-write leaves a torn last line."""
    for raw in f:
        if not raw.endswith(b"\n"):
            return
        yield raw.decode("utf-8", errors="replace")


def done_paths(output: Path) -> set[str]:
    """Paths already read: their last line in `output` is a reading, not an error."""
    return {path for path, record in latest_records(output).items() if "error" not in record}


class ResultWriter:
    """Appends records to JSONL or CSV (chosen by suffix), flushing after each chunk."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.is_csv = output.suffix.lower() == ".csv"
        output.parent.mkdir(parents=True, exist_ok=True)
        _drop_torn_last_line(output)
        new_file = not output.exists() or output.stat().st_size == 0
        if self.is_csv and not new_file:
            _upgrade_csv_columns(output)
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


def _upgrade_csv_columns(output: Path) -> None:
    """A CSV written before a column was added gets the current header and columns, so that
    appended rows line up; one with columns of its own is refused rather than rewritten."""
    with output.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        columns = tuple(reader.fieldnames or ())
        if columns == CSV_FIELDS:
            return
        if not set(columns) <= set(CSV_FIELDS) or "path" not in columns:
            raise MathlensError(f"{output} has the columns {', '.join(columns)}, not mathlens results "
                                f"({', '.join(CSV_FIELDS)}): write to another file")
        rows = list(reader)
    tmp = output.with_name(output.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, CSV_FIELDS)
        writer.writeheader()
        writer.writerows({k: row.get(k) or "" for k in CSV_FIELDS} for row in rows)
    os.replace(tmp, output)


_worker_recognizer: Any = None
_worker_detector: Any = None


def _init_worker(settings: JobSettings) -> None:
    global _worker_recognizer, _worker_detector  # one model per worker process, loaded once
    from mathlens.api import Recognizer

    predictor = None
    if settings.vlm is not None:
        from mathlens.vlm.backend import VlmPredictor

        predictor = VlmPredictor(settings.vlm)
    _worker_recognizer = Recognizer(settings.model_dir, beam_size=settings.beam_size, num_threads=settings.threads,
                                    views=settings.views, predictor=predictor)
    _worker_detector = _page_detector(settings.threads) if settings.page_check else None


def _page_detector(threads: int) -> Any:
    """The page detector where the page extra is installed; None (no check) elsewhere."""
    from importlib.util import find_spec

    from mathlens.pages.detect import FormulaDetector

    if find_spec("cv2") is None:  # the page extra brings OpenCV
        return None
    try:
        return FormulaDetector(num_threads=threads)
    except MathlensError:
        return None


def _recognize_chunk(paths: list[Path]) -> list[dict[str, Any]]:
    inputs: list[Any] = list(paths)
    failed: dict[int, str] = {}
    if _worker_detector is not None:
        for i, path in enumerate(paths):
            try:
                inputs[i] = _checked_picture(path)
            except MathlensError as err:
                failed[i] = str(err)
    preds = _worker_recognizer.recognize_batch([x for i, x in enumerate(inputs) if i not in failed], errors="return")
    read = iter(preds)
    return [{"path": str(p), "error": failed[i]} if i in failed else result_record(p, next(read))
            for i, p in enumerate(paths)]


def _checked_picture(path: Path) -> Any:
    """The picture, or the one formula cut from text around it; InvalidInputError for a page of text."""
    from mathlens.inference.preprocess import load_image
    from mathlens.pages.guard import check_picture

    if path.suffix.lower() == ".inkml":
        return path
    try:
        image = load_image(path)
    except MathlensError:
        return path  # ink, or unreadable: the recognizer says which
    verdict = check_picture(image, _worker_detector)
    if verdict.box is None:
        return path
    logger.warning("%s: %s", path, verdict.note)
    b = verdict.box
    return image.crop((int(b.x0), int(b.y0), int(b.x1) + 1, int(b.y1) + 1))


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
                progress: Callable[[int], None] | None = None) -> JobSummary:
    """Resume-aware job: reads the paths not yet read in `output` (failed ones again) and appends."""
    done = done_paths(output)
    todo = [p for p in paths if str(p) not in done]
    num_failed = 0
    writer = ResultWriter(output)
    try:
        for records in run_batch(todo, settings, workers):
            writer.write(records)
            num_failed += sum("error" in r for r in records)
            if progress:
                progress(len(records))
    finally:
        writer.close()
    return JobSummary(len(todo) - num_failed, num_failed, len(paths) - len(todo))
