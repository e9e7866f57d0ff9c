"""Uni-MuMER's training data from the project's labelled sets, ready for `llamafactory-cli train`.

`build_vlm_data` writes, under one folder (LLaMA-Factory's `dataset_dir`):

    images/<source>/<id>.png      the pictures (ink drawn by mathlens' own renderer, pictures copied)
    <name>_<task>.json            one list of ShareGPT-style examples per task
    dataset_info.json             one entry per task (`file_name`, `formatting: sharegpt`, columns, tags)
    readings.jsonl                the shipped model's reading of each item, cached (a re-run reads none again)

Image paths are relative to that folder, as LLaMA-Factory resolves them (its `media_dir` defaults
to `dataset_dir`). The error-driven task needs a real reading of every picture by the model, so it
costs a model run (about 0.1 s of CPU an item, greedy: 17 minutes for the CROHME training set on 2
shared cores); the other tasks need the labels only.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mathlens.config import GREEDY_ONCE, DecodeConfig
from mathlens.errors import InvalidInputError, MathlensError
from mathlens.inference.inkml import STROKE_WIDTH_PX, SYMBOL_HEIGHT_PX, ink_scale, render_strokes
from mathlens.metrics.evaluate import canonical
from mathlens.vlm import prompts
from mathlens.vlm.labelled import Item
from mathlens.vlm.prompts import TASKS, Task

logger = logging.getLogger(__name__)

IMAGE_DIR = "images"
READINGS_FILE = "readings.jsonl"
INFO_FILE = "dataset_info.json"
BATCH = 32


@dataclass(frozen=True)
class VlmDataConfig:
    out_dir: Path
    name: str = "mathlens"  # dataset names in dataset_info.json: <name>_<task>
    tasks: tuple[Task, ...] = TASKS
    decode: DecodeConfig = GREEDY_ONCE  # how the shipped model reads, for the error-driven task
    model_dir: Path | None = None  # an exported model folder; None: the shipped model
    num_threads: int = 2
    # Ink is drawn larger than the recognizer's own input (14 px symbols): a VLM's vision encoder
    # cuts the picture into 14-28 px patches, and CROHME's offline bitmaps have symbols about this tall.
    symbol_height_px: float = 32.0
    pen_width_px: float = STROKE_WIDTH_PX * 32.0 / SYMBOL_HEIGHT_PX


@dataclass
class BuildReport:
    """What was written and what it cost: examples per task, misread items, seconds per stage."""

    num_items: int = 0
    num_misread: int = 0
    num_unread: int = 0  # readings that failed or came back empty: no error-driven example
    examples: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def build_vlm_data(items: list[Item], cfg: VlmDataConfig,
                   progress: Callable[[int], object] = lambda n: None) -> BuildReport:
    """Pictures, readings (when the error-driven task is asked for) and one JSON file per task."""
    report = BuildReport()
    started = time.perf_counter()
    images = write_images(items, cfg)
    items = [item for item in items if item.key in images]
    report.num_items = len(items)
    report.seconds["images"] = round(time.perf_counter() - started, 1)
    readings: dict[str, list[str] | None] = {}
    if "error_driven" in cfg.tasks:
        started = time.perf_counter()
        readings = read_items(items, cfg, progress)
        report.seconds["readings"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    info: dict[str, dict] = {}
    for task in cfg.tasks:
        examples = task_examples(task, items, images, readings)
        file_name = f"{cfg.name}_{task}.json"
        write_json(cfg.out_dir / file_name, examples)
        info[f"{cfg.name}_{task}"] = dataset_entry(file_name)
        report.examples[task] = len(examples)
    update_dataset_info(cfg.out_dir / INFO_FILE, info)
    report.seconds["examples"] = round(time.perf_counter() - started, 1)
    report.num_misread = sum(bool(readings.get(i.key)) and readings[i.key] != list(i.tokens) for i in items)
    report.num_unread = sum(not r for r in readings.values())
    return report


def task_examples(task: Task, items: list[Item], images: dict[str, str],
                  readings: dict[str, list[str] | None]) -> list[dict]:
    """The task's examples, in item order; error-driven: a finding and a fixing example per misread item."""
    examples = []
    for item in items:
        image = [images[item.key]]
        if task == "error_driven":
            reading = readings.get(item.key)
            if reading and reading != list(item.tokens):
                examples.append({"messages": prompts.error_find(item.tokens, reading, item.kind), "images": image})
                examples.append({"messages": prompts.error_fix(item.tokens, reading, item.kind), "images": image})
            continue
        build = {"vanilla": prompts.vanilla, "tree_cot": prompts.tree_cot, "counting": prompts.counting}[task]
        examples.append({"messages": build(item.tokens, item.kind), "images": image})
    return examples


def dataset_entry(file_name: str) -> dict:
    """A dataset_info.json entry for a ShareGPT file of `messages` (role/content) and `images`."""
    return {"file_name": file_name, "formatting": "sharegpt",
            "columns": {"messages": "messages", "images": "images"},
            "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}}


def update_dataset_info(path: Path, entries: dict[str, dict]) -> None:
    """Add or replace our entries, keeping any others (the folder may be LLaMA-Factory's data/)."""
    info = {}
    if path.is_file():
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise MathlensError(f"{path}: not JSON ({err}); move it away or choose another --out") from None
    write_json(path, {**info, **entries})


def write_json(path: Path, data: object) -> None:
    """Whole or not at all: a file LLaMA-Factory finds is never half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_images(items: list[Item], cfg: VlmDataConfig) -> dict[str, str]:
    """Each item's picture under images/ (kept if already there) -> its path relative to out_dir."""
    written = {}
    for item in items:
        suffix = ".png" if item.ink is not None else (item.image_path.suffix.lower() if item.image_path else ".png")
        relative = f"{IMAGE_DIR}/{item.key}{suffix}"
        path = cfg.out_dir / relative
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                if item.ink is not None:
                    scale = ink_scale(item.ink.strokes) * cfg.symbol_height_px / SYMBOL_HEIGHT_PX
                    render_strokes(item.ink.strokes, scale=scale, width_px=cfg.pen_width_px).save(path)
                elif item.image_path is not None:
                    shutil.copyfile(item.image_path, path)
            except (InvalidInputError, OSError) as err:
                logger.warning("skipping %s: %s", item.key, err)
                continue
        written[item.key] = relative
    return written


def read_items(items: list[Item], cfg: VlmDataConfig,
               progress: Callable[[int], object] = lambda n: None) -> dict[str, list[str] | None]:
    """The model's canonical reading of each item (None: it could not read it), resumed from readings.jsonl."""
    from mathlens.api import Recognizer

    path = cfg.out_dir / READINGS_FILE
    reader = reader_name(cfg)
    done = load_readings(path, reader)
    todo = [item for item in items if item.key not in done]
    progress(len(items) - len(todo))
    if todo:
        recognizer = Recognizer(cfg.model_dir, decode=cfg.decode, num_threads=cfg.num_threads)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            for start in range(0, len(todo), BATCH):
                batch = todo[start: start + BATCH]
                inputs = [item.ink if item.ink is not None else item.image_path for item in batch]
                for item, pred in zip(batch, recognizer.recognize_batch(inputs, errors="return")):
                    done[item.key] = canonical(pred.latex) if pred.error is None else None
                    out.write(json.dumps({"key": item.key, "latex": pred.latex, "reading": done[item.key],
                                          "error": pred.error, "reader": reader}, ensure_ascii=False) + "\n")
                out.flush()
                progress(len(batch))
    return {item.key: done[item.key] for item in items}


def reader_name(cfg: VlmDataConfig) -> str:
    """Which model read how: a cached reading by another model or search is not reused."""
    model = str(cfg.model_dir.resolve()) if cfg.model_dir else "shipped"
    return f"{model} beam={cfg.decode.beam_size} views={cfg.decode.views}"


def load_readings(path: Path, reader: str) -> dict[str, list[str] | None]:
    """Cached readings of this reader by key (the last line of a key counts; a torn last line is read again)."""
    done: dict[str, list[str] | None] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if row.get("reader") == reader:
                done[row["key"]] = row["reading"]
    return done
