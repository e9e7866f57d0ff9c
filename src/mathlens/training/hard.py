"""Error-driven learning for a small model (Uni-MuMER's EDL, as hard-example weighting): read the
training sets with the current model, keep what it reads wrong, train on those more.

The readings go to a JSONL file as they come (an interrupted run resumes), and the misread records
become a manifest that a config names as a source (`kind: manifest`, with a weight).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mathlens.config import GREEDY_ONCE, DataConfig
from mathlens.data.manifest import Record, read_manifest
from mathlens.metrics.evaluate import canonical

BATCH = 32


def sample_training_records(data: DataConfig, count: int, seed: int = 0) -> list[Record]:
    """`count` records drawn from the config's sources in proportion to their share of an epoch,
    each with its source's name as `source`."""
    pool: list[Record] = []
    weights: list[float] = []
    for source in data.sources:
        if source.weight <= 0:
            continue
        records = [replace(r, source=source.name) for r in read_manifest(data.manifest(source))
                   if len(r.tokens) <= data.max_tokens]
        pool += records
        weights += [source.weight] * len(records)
    rng = random.Random(seed)
    chosen = set()
    while len(chosen) < min(count, len(pool)):
        chosen.update(rng.choices(range(len(pool)), weights=weights, k=count - len(chosen)))
    return [pool[i] for i in sorted(chosen)]


def read_records(records: list[Record], model_dir: Path | None, readings_path: Path, threads: int = 2,
                 progress: Callable[[int], object] = lambda n: None) -> dict[str, list[str]]:
    """Each record's image read once, greedy -> normalized tokens by image path (resumes from `readings_path`)."""
    from mathlens.api import Recognizer

    done: dict[str, list[str]] = {}
    if readings_path.is_file():
        for line in readings_path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            done[row["image"]] = row["reading"]
    todo = [r for r in records if str(r.image_path) not in done]
    progress(len(records) - len(todo))
    recognizer = Recognizer(model_dir, decode=GREEDY_ONCE, num_threads=threads)
    readings_path.parent.mkdir(parents=True, exist_ok=True)
    with readings_path.open("a", encoding="utf-8") as out:
        for start in range(0, len(todo), BATCH):
            batch = todo[start: start + BATCH]
            preds = recognizer.recognize_batch([r.image_path for r in batch], errors="return")
            for record, pred in zip(batch, preds):
                done[str(record.image_path)] = canonical(pred.latex) if pred.error is None else []
                out.write(json.dumps({"image": str(record.image_path), "reading": done[str(record.image_path)]},
                                     ensure_ascii=False) + "\n")
            out.flush()
            progress(len(batch))
    return done


def misread(records: list[Record], readings: dict[str, list[str]]) -> list[Record]:
    return [r for r in records if readings.get(str(r.image_path)) != list(r.tokens)]


def write_hard_manifest(records: list[Record], readings: dict[str, list[str]], path: Path) -> Path:
    """The misread records as a manifest (absolute image paths), each with what the model read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for r in records:
            row = {"image": str(r.image_path.resolve()), "tokens": list(r.tokens), "source": r.source,
                   "reading": readings.get(str(r.image_path), [])}
            if r.dpi:
                row["dpi"] = r.dpi
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
