"""Two runs' predictions side by side: did a change alter what the model reads?

    python benchmarks/compare_predictions.py BEFORE_pred.jsonl AFTER_pred.jsonl [...pairs]

For each pair of `*_pred.jsonl` files (from `mathlens eval` or `mathlens measure`, same inputs in
the same order) prints how many readings are identical, how many differ, and the largest change
of confidence; exits 1 when any reading differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def compare(before: Path, after: Path) -> int:
    rows_a = [json.loads(line) for line in before.read_text(encoding="utf-8").splitlines()]
    rows_b = [json.loads(line) for line in after.read_text(encoding="utf-8").splitlines()]
    if [Path(r["path"]).name for r in rows_a] != [Path(r["path"]).name for r in rows_b]:  # sets may have moved
        print(f"{before.name} / {after.name}: not the same inputs in the same order")
        return len(rows_a) or 1
    differ = [(a, b) for a, b in zip(rows_a, rows_b) if (a["latex"], a["error"]) != (b["latex"], b["error"])]
    drift = max((abs(a["confidence"] - b["confidence"]) for a, b in zip(rows_a, rows_b)), default=0.0)
    print(f"{before.name} / {after.name}: {len(rows_a)} inputs, {len(rows_a) - len(differ)} identical readings, "
          f"{len(differ)} different; largest confidence change {drift:.4f}")
    for a, b in differ[:5]:
        print(f"  {a['path']}: {a['latex']!r} -> {b['latex']!r}")
    return len(differ)


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]]
    if not paths or len(paths) % 2:
        sys.exit(__doc__)
    sys.exit(1 if sum(compare(a, b) for a, b in zip(paths[::2], paths[1::2])) else 0)


if __name__ == "__main__":
    main()
