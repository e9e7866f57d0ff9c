"""`mathlens bench`: each set scored as `mathlens eval` scores it, reported as Uni-MuMER's eval reports it.

Per set, in OUT: `<set>_pred.jsonl` and `<set>_results.json` (`mathlens eval`'s files, from the
same `evaluate`, so the figures are the same), `<set>_pred.json` (Uni-MuMER's: a list of
{"gt", "pred", "image_path", "img_id"}, both sides as space-separated canonical tokens, so its
`eval_metrics_calculator.py` reads the same exact matches) and `<set>_results.txt` (its report
layout, closed by one `ExpRate: 0.xxxx` line). Then `summary.md` and `summary.json` over the sets.

Differences from Uni-MuMER's figures: tokens are the project's canonical ones (both sides
normalized, `mathlens.tokenizer.normalize`), BLEU-4 is corpus BLEU without smoothing
(multi-bleu, as `mathlens eval`), and CER is over the LaTeX without spaces.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mathlens.bench.sets import BenchSet
from mathlens.metrics.evaluate import canonical, evaluate
from mathlens.metrics.text import Scores, edit_distance

RecognizeBatch = Callable[[list[Path]], list]


@dataclass(frozen=True)
class SetResult:
    name: str
    layout: str
    scores: Scores
    within_3: float
    mean_edit_score: float  # Uni-MuMER's: mean of 1 - distance / max(len) per sample, in percent
    seconds: float


def run_bench(recognize_batch: RecognizeBatch, sets: list[BenchSet], out_dir: Path, *, batch_size: int = 64,
              limit: int | None = None, progress: Callable[[int], None] | None = None) -> list[SetResult]:
    """Read and score every set; write each set's files as it finishes, then the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for bench_set in sets:
        samples = list(bench_set.samples[:limit] if limit is not None else bench_set.samples)
        started = time.perf_counter()
        scores = evaluate(recognize_batch, samples, out_dir, bench_set.name, batch_size=batch_size, progress=progress)
        records = read_jsonl(out_dir / f"{bench_set.name}_pred.jsonl")
        pairs = unimumer_records(records)
        (out_dir / f"{bench_set.name}_pred.json").write_text(json.dumps(pairs, ensure_ascii=False, indent=2) + "\n",
                                                             encoding="utf-8")
        result = set_result(bench_set, scores, pairs, round(time.perf_counter() - started, 1))
        (out_dir / f"{bench_set.name}_results.txt").write_text(results_text(result), encoding="utf-8")
        results.append(result)
    write_summary(results, out_dir)
    return results


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def unimumer_records(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """`mathlens eval` lines as Uni-MuMER's `_pred.json` records; a failed input reads as empty."""
    out = []
    for r in records:
        pred = "" if r.get("error") else " ".join(canonical(r["latex"]))
        out.append({"gt": " ".join(canonical(r["reference"])), "pred": pred, "image_path": r["path"],
                    "img_id": Path(r["path"]).stem, **({"error": r["error"]} if r.get("error") else {})})
    return out


def set_result(bench_set: BenchSet, scores: Scores, pairs: list[dict[str, str]], seconds: float) -> SetResult:
    """The eval scores plus the two figures Uni-MuMER's report adds (<=3 errors, mean edit score)."""
    dists, edit_scores = [], []
    for pair in pairs:
        gt, pred = pair["gt"].split(), pair["pred"].split()
        d = edit_distance(gt, pred)
        dists.append(d)
        edit_scores.append(100.0 if not gt and not pred else 0.0 if not gt or not pred
                           else (1 - d / max(len(gt), len(pred))) * 100)
    n = max(1, len(pairs))
    return SetResult(bench_set.name, bench_set.layout, scores, sum(d <= 3 for d in dists) / n,
                     sum(edit_scores) / n, seconds)


def results_text(r: SetResult) -> str:
    """Uni-MuMER's `_results.txt` layout (eval_metrics_calculator.py), and one `ExpRate:` line."""
    s, n = r.scores, r.scores.num_samples
    rates = (s.exact_match, s.within_1, s.within_2, r.within_3)
    lines = ["", "=" * 60, f"{'EVALUATION RESULTS':>38}", "=" * 60, "", "Dataset Statistics:",
             f"  Total Samples: {n:,}", "", "Core Metrics:",
             f"  Mean Edit Score:       {r.mean_edit_score:>8.4f}%",
             f"  BLEU-4 Score:          {s.bleu4 * 100:>8.4f}%",
             f"  Character Error Rate:  {s.cer:>8.4f}", "", "Error Threshold Analysis:",
             f"  Exact Match Rate:      {rates[0] * 100:>8.4f}% (0 errors)",
             *(f"  Error ≤ {k}:             {rates[k] * 100:>8.4f}%" for k in (1, 2, 3)), "",
             "Detailed Error Distribution:",
             *(f"  Errors ≤ {k}: {round(rates[k] * n):>6,} samples ({rates[k] * 100:>6.2f}%)" for k in range(4)),
             "", "=" * 60, f"ExpRate: {s.exact_match:.4f}", ""]
    return "\n".join(lines)


def summary_table(results: list[SetResult]) -> str:
    """A Markdown table, one row a set: what `mathlens bench` prints and writes to summary.md."""
    rows = ["| set | layout | samples | ExpRate | ≤1 | ≤2 | BLEU-4 | CER | seconds |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        s = r.scores
        rows.append(f"| {r.name} | {r.layout} | {s.num_samples} | {s.exact_match * 100:.2f} | {s.within_1 * 100:.2f} | "
                    f"{s.within_2 * 100:.2f} | {s.bleu4:.4f} | {s.cer:.4f} | {r.seconds:g} |")
    return "\n".join(rows) + "\n"


def write_summary(results: list[SetResult], out_dir: Path) -> None:
    (out_dir / "summary.md").write_text(summary_table(results), encoding="utf-8")
    data = [{"name": r.name, "layout": r.layout, **r.scores.as_dict(), "within_3": r.within_3,
             "mean_edit_score": round(r.mean_edit_score, 4), "seconds": r.seconds} for r in results]
    (out_dir / "summary.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
