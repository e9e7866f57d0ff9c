"""Fitting and judging the confidence (`mathlens calibrate`): does it tell right from wrong?

Every view of every validation input is read once and kept (`collect`, resumable JSONL), so
both ways of reading come from one run: the first view alone (`--single-view`) and the views'
agreement (the default). A logistic model over `inference.calibration.FEATURES` is fitted on
one group of sets and judged on another, print and handwriting apart: AUROC for "exactly
right", the expected calibration error, and how often the readings above a threshold are right.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mathlens.inference.calibration import FEATURES, Calibration, Signals, judge
from mathlens.metrics.evaluate import Sample, canonical

THRESHOLDS = (0.5, 0.7, 0.9)


@dataclass(frozen=True)
class Example:
    """One answer as a user would get it, and whether it was exactly right."""

    signals: Signals
    raw_confidence: float  # the geometric-mean token probability (the old confidence)
    correct: bool


def collect(predictor: Any, samples: Sequence[Sample], out_path: Path, views: bool = True, batch_size: int = 32,
            progress: Callable[[int], None] | None = None) -> Path:
    """Read every view of every sample (beam 3) and append one JSON line per sample to `out_path`;
    samples already there are skipped, so an interrupted run goes on where it stopped."""
    from mathlens.config import DecodeConfig

    done = {json.loads(line)["path"] for line in out_path.read_text().splitlines()} if out_path.exists() else set()
    todo = [s for s in samples if str(s.image_path) not in done]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("a", encoding="utf-8") as out:
        for start in range(0, len(todo), batch_size):
            chunk = todo[start: start + batch_size]
            groups = [_views_or_error(s, predictor, views) for s in chunk]
            preds = iter(predictor.predict([a for g in groups if not isinstance(g, str) for a in g], DecodeConfig()))
            for sample, group in zip(chunk, groups):
                if isinstance(group, str):  # nothing to judge: the user gets an error, not a confidence
                    out.write(json.dumps({"path": str(sample.image_path), "error": group}) + "\n")
                    continue
                readings = [next(preds) for _ in group]
                out.write(json.dumps({"path": str(sample.image_path), "reference": sample.reference, "views": [
                    {"latex": r.latex, "tokens": list(r.tokens), "confidence": r.confidence,
                     "signals": asdict(r.signals)} for r in readings]}, ensure_ascii=False) + "\n")
            out.flush()
            if progress:
                progress(len(chunk))
    return out_path


def _views_or_error(sample: Sample, predictor: Any, views: bool) -> list[np.ndarray] | str:
    from mathlens.errors import MathlensError
    from mathlens.inference.preprocess import preprocess_views

    try:
        return preprocess_views(sample.image_path, predictor.preprocess_config, views)
    except MathlensError as err:
        return str(err)


def examples(path: Path, single_view: bool = False) -> list[Example]:
    """The answers in a `collect` file: the views' agreement, or (single_view) the first view alone."""
    from mathlens.inference.predictor import Prediction, agree

    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "error" in row:
            continue
        readings = [Prediction(v["latex"], v["confidence"], tuple(v["tokens"]), signals=Signals(**v["signals"]))
                    for v in row["views"]]
        readings = readings[:1] if single_view else readings
        best = agree(readings)
        out.append(Example(best.signals, best.confidence, canonical(best.latex) == canonical(row["reference"])))
    return out


def fit(train: Sequence[Example], unsure_below: float, max_tokens_per_column: float) -> Calibration:
    """A logistic model of "exactly right" over the signals (scikit-learn, at fit time only)."""
    from sklearn.linear_model import LogisticRegression

    x = np.stack([e.signals.features() for e in train])
    y = np.array([e.correct for e in train])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    return Calibration(tuple(float(c) for c in model.coef_[0]), float(model.intercept_[0]), FEATURES,
                       unsure_below, max_tokens_per_column)


@dataclass(frozen=True)
class Quality:
    num: int
    exact: float  # share of answers exactly right
    auroc: float  # how well the confidence ranks right above wrong (0.5: not at all)
    ece: float  # expected calibration error, 10 equal-width bins
    above: dict[float, tuple[float, float]]  # threshold -> (share of answers above it, their exact share)
    unsure: float  # share of answers flagged unsure


def quality(confidences: Sequence[float], correct: Sequence[bool], unsure: Sequence[bool]) -> Quality:
    from sklearn.metrics import roc_auc_score

    conf, right = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=bool)
    auroc = float(roc_auc_score(right, conf)) if 0 < right.sum() < len(right) else float("nan")
    bins = np.minimum((conf * 10).astype(int), 9)
    ece = sum(abs(conf[bins == b].mean() - right[bins == b].mean()) * (bins == b).mean() for b in range(10) if (bins == b).any())
    above = {t: (float((conf >= t).mean()), float(right[conf >= t].mean()) if (conf >= t).any() else math.nan)
             for t in THRESHOLDS}
    return Quality(len(conf), float(right.mean()), auroc, float(ece), above, float(np.mean(unsure)))


def judged(items: Sequence[Example], calibration: Calibration | None) -> Quality:
    """The quality of the confidence a user gets: raw (calibration None) or calibrated."""
    results = [judge(e.signals, calibration) if calibration else (e.raw_confidence, None) for e in items]
    return quality([c for c, _ in results], [e.correct for e in items], [u is not None for _, u in results])


def report_table(rows: list[tuple[str, str, Quality]]) -> str:
    """Markdown: one row per (set, confidence kind)."""
    head = ("| set | confidence | n | exact | AUROC | ECE | unsure | "
            + " | ".join(f"≥ {t}: share / exact" for t in THRESHOLDS) + " |")
    lines = [head, "|---|---|---:|---:|---:|---:|---:|" + "---:|" * len(THRESHOLDS)]
    for name, kind, q in rows:
        cells = " | ".join(f"{share:.1%} / {exact:.1%}" for share, exact in q.above.values())
        lines.append(f"| {name} | {kind} | {q.num} | {q.exact:.1%} | {q.auroc:.3f} | {q.ece:.3f} | {q.unsure:.1%} | {cells} |")
    return "\n".join(lines) + "\n"
