"""The release measurement (`mathlens measure`): one model scored on every validation set, one table.

The full run is what BENCHMARKS.md reports for a shipped model: each set read with the
shipped search (beam 3, several views). `quick` is the A/B of a training candidate: greedy,
each input read once, on the three sets that move first (CROHME 2014 ink and bitmaps, the first
1,000 printed validation images), about 3 minutes on 2 cores.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from mathlens.config import DecodeConfig
from mathlens.metrics.evaluate import evaluate, load_samples
from mathlens.synth.valsets import ensure_set

logger = logging.getLogger(__name__)

# (set, how many of its samples: None for all), in the order BENCHMARKS.md reports them
RELEASE_SETS: tuple[tuple[str, int | None], ...] = (
    ("im2latex_val", None), ("im2latex_katex300", None), ("im2latex_mathjax300", None),
    ("im2latex_libertine300", None), ("im2latex_up3", None), ("crohme2014_inkml", None),
    ("crohme2014_bitmaps", None), ("crohme2013_inkml", None), ("crohme2014_photo", None),
)
QUICK_SETS: tuple[tuple[str, int | None], ...] = (
    ("crohme2014_inkml", None), ("crohme2014_bitmaps", None), ("im2latex_val", 1000),
)
QUICK_DECODE = DecodeConfig(beam_size=1, views=False)
COLUMNS = (("num_samples", "n", "{:d}"), ("exact_match", "ExpRate", "{:.2%}"), ("within_1", "≤1", "{:.2%}"),
           ("within_2", "≤2", "{:.2%}"), ("bleu4", "BLEU-4", "{:.4f}"), ("cer", "CER", "{:.4f}"),
           ("seconds", "seconds", "{:.0f}"))


def measure(model_dir: Path, sets: Sequence[tuple[str, int | None]], datasets: Path, val_root: Path, out: Path,
            decode: DecodeConfig, num_threads: int = 2,
            progress: Callable[[str, int], Callable[[int], None]] | None = None) -> Path:
    """Score the model on each set (building missing ones), write OUT/summary.md; returns its path."""
    from mathlens.api import Recognizer

    paths = {name: ensure_set(name, datasets, val_root) for name, _ in sets}
    recognizer = Recognizer(model_dir, num_threads=num_threads, decode=decode)
    rows = []
    for name, limit in sets:
        samples = load_samples(paths[name], limit)
        label = name if limit is None else f"{name}{limit}"
        logger.info("%s: %d samples", label, len(samples))
        evaluate(lambda paths: recognizer.recognize_batch(paths, errors="return"), samples, out, label,
                 progress=progress(label, len(samples)) if progress else None)
        rows.append(json.loads((out / f"{label}_results.json").read_text(encoding="utf-8")))
    summary = out / "summary.md"
    summary.write_text(summary_table(rows, model_dir, decode), encoding="utf-8")
    return summary


def summary_table(rows: list[dict], model_dir: Path, decode: DecodeConfig) -> str:
    """A Markdown table of the sets' scores, with the model and the search that made them."""
    views = "several views" if decode.views else "single view"
    lines = [f"model: {model_dir}; beam {decode.beam_size}, {views}", "",
             "| set | " + " | ".join(title for _, title, _ in COLUMNS) + " |",
             "|---|" + "---:|" * len(COLUMNS)]
    for row in rows:
        lines.append(f"| {row['name']} | " + " | ".join(fmt.format(row[key]) for key, _, fmt in COLUMNS) + " |")
    return "\n".join(lines) + "\n"
