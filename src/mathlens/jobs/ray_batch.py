"""Batch inference over large image sets with Ray Data: `mathlens batch DIR --output out.jsonl`.

The driver lists the files; a fixed pool of Ray actors, each holding one Predictor, reads,
preprocesses and decodes them in batches (`map_batches` with a class, one actor per model copy);
results stream back to the driver in input order and are appended to the output as they come,
with the same records and resume rule as `mathlens predict --output` (jobs/batch.py): one line
per input, {"path", "latex", "confidence"} ("unsure" added when set) or {"path", "error"} for a
file that cannot be read; a rerun skips the paths already read and tries the failed ones again,
appending, and the last line of a path is its result.

On a cluster of several machines every node must see the files at the same absolute paths (a
shared filesystem) and have mathlens installed. Needs the `ray` extra; Ray is imported here only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mathlens.config import DecodeConfig
from mathlens.errors import MathlensError
from mathlens.jobs.batch import JobSummary, ResultWriter, done_paths, result_record

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RayBatchSummary(JobSummary):
    num_actors: int  # model copies used (no more than there were blocks of work)
    seconds: float


class RecognizeBatch:
    """Ray Data UDF: one Recognizer per actor, reused for every batch of paths it is given."""

    def __init__(self, model_dir: str | None, decode: DecodeConfig, num_threads: int, max_batch_size: int,
                 vlm: Any = None) -> None:
        from mathlens.api import Recognizer

        predictor = None
        if vlm is not None:  # a mathlens.vlm.backend.VlmConfig: a vision-language model reads
            from mathlens.vlm.backend import VlmPredictor

            predictor = VlmPredictor(vlm)
        self.recognizer = Recognizer(Path(model_dir) if model_dir else None, num_threads=num_threads,
                                     max_batch_size=max_batch_size, decode=decode, predictor=predictor)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        """{"path", "file"} columns in; "path", "latex", "confidence", "unsure", "error" out (None where absent)."""
        preds = self.recognizer.recognize_batch([Path(str(f)) for f in batch["file"]], errors="return")
        records = [result_record(Path(str(path)), pred) for path, pred in zip(batch["path"], preds)]
        return {key: [r.get(key) for r in records] for key in ("path", "latex", "confidence", "unsure", "error")}


def predict_dataset(paths: Sequence[Path], out_path: Path, *, model_dir: Path | None = None,
                    decode: DecodeConfig = DecodeConfig(), num_actors: int = 1, num_threads: int = 1,
                    num_cpus_per_actor: float | None = None, batch_size: int = 32,
                    progress: Callable[[int], None] | None = None, vlm: Any = None,
                    num_gpus_per_actor: float | None = None) -> RayBatchSummary:
    """Recognize `paths` on the current Ray cluster (ray.init first, or Ray starts a local one).

    `num_actors` model copies run at once, each with `num_threads` onnxruntime threads and
    reserving `num_cpus_per_actor` CPUs (default: num_threads) and `num_gpus_per_actor` GPUs. With
    `vlm` (a VlmConfig) each actor holds that vision-language model instead of the small one.
    Results are appended to `out_path` (.jsonl, or .csv), flushed batch by batch.
    """
    import ray

    if num_actors < 1 or num_threads < 1 or batch_size < 1:
        raise MathlensError("actors, threads and batch size must be at least 1")
    start = time.perf_counter()
    done = done_paths(out_path)
    todo = [p for p in paths if str(p) not in done]
    num_failed = num_used = 0
    if todo:
        items = [{"path": str(p), "file": str(p.absolute())} for p in todo]  # workers do not share our cwd
        udf_args = {"model_dir": str(model_dir.absolute()) if model_dir else None, "decode": decode,
                    "num_threads": num_threads, "max_batch_size": min(batch_size, 16), "vlm": vlm}
        # Blocks of a few batches each, and at least one per actor, so that every actor gets work.
        num_blocks = min(len(items), max(2 * num_actors, -(-len(items) // (4 * batch_size))))
        num_used = min(num_actors, num_blocks)  # no idle model copies
        # Output lines in input order. A dataset copies the current DataContext when it is made,
        # so the option must be set before, not after.
        context = ray.data.DataContext.get_current()
        preserve_order = context.execution_options.preserve_order
        context.execution_options.preserve_order = True
        writer = ResultWriter(out_path)
        try:
            dataset = ray.data.from_items(items, override_num_blocks=num_blocks).map_batches(
                RecognizeBatch, fn_constructor_kwargs=udf_args, batch_size=batch_size, batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=num_used),
                num_cpus=float(num_threads) if num_cpus_per_actor is None else num_cpus_per_actor,
                **({"num_gpus": num_gpus_per_actor} if num_gpus_per_actor else {}))
            records: list[dict[str, Any]] = []
            for row in dataset.iter_rows():
                records.append(_record(row))
                if len(records) == batch_size:
                    num_failed += _write(writer, records, progress)
                    records = []
            num_failed += _write(writer, records, progress)
        finally:
            context.execution_options.preserve_order = preserve_order
            writer.close()
    return RayBatchSummary(len(todo) - num_failed, num_failed, len(paths) - len(todo), num_used,
                           round(time.perf_counter() - start, 2))


def _write(writer: ResultWriter, records: list[dict[str, Any]], progress: Callable[[int], None] | None) -> int:
    """Append (and flush) records; returns how many are errors."""
    if records:
        writer.write(records)
        if progress is not None:
            progress(len(records))
    return sum("error" in r for r in records)


def _record(row: dict[str, Any]) -> dict[str, Any]:
    """A Ray Data row back to result_record's line (its None columns dropped)."""
    if row["error"] is not None:
        return {"path": row["path"], "error": row["error"]}
    record = {"path": row["path"], "latex": row["latex"], "confidence": row["confidence"]}
    if row.get("unsure"):
        record["unsure"] = row["unsure"]
    return record
