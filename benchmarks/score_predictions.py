"""Score another tool's predictions with mathlens' own metrics and normalizer.

    python benchmarks/score_predictions.py preds.jsonl ../shared/datasets/im2latex100k/val

    python benchmarks/score_predictions.py .cache/bench/katex300_int8_pred.jsonl

`preds.jsonl` holds {"path", "latex"} (or {"path", "error"}) lines, e.g. from
benchmarks/pix2tex_predict.py; references come from the same data folder `mathlens eval` reads.
Only the predicted paths are scored; a missing or failed prediction counts as empty. Without a
data folder, the references are the file's own `reference` fields (a `mathlens eval`
*_pred.jsonl): how earlier predictions are re-scored after a normalizer change.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mathlens.metrics.evaluate import canonical, load_samples
from mathlens.metrics.text import score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("predictions", type=Path)
    parser.add_argument("data_dir", type=Path, nargs="?")
    args = parser.parse_args()
    records = [json.loads(line) for line in args.predictions.read_text(encoding="utf-8").splitlines()]
    if args.data_dir is None:
        refs = [canonical(r["reference"]) for r in records]
        hyps = [canonical(r.get("latex") or "") for r in records]
    else:
        preds = {str(Path(r["path"]).resolve()): r.get("latex") or "" for r in records}
        samples = [s for s in load_samples(args.data_dir) if str(s.image_path.resolve()) in preds]
        refs = [canonical(s.reference) for s in samples]
        hyps = [canonical(preds[str(s.image_path.resolve())]) for s in samples]
    print(json.dumps(score(refs, hyps).as_dict(), indent=2))


if __name__ == "__main__":
    main()
