"""Where a model goes wrong on an evaluated set: exact match by formula length, closing punctuation,
and the most common token substitutions, deletions and insertions (difflib alignment of the
normalized sequences).

    python benchmarks/error_analysis.py .cache/bench/crohme2014_bitmaps_pred.jsonl

Reads the `*_pred.jsonl` that `mathlens eval` writes; prints Markdown.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path

from mathlens.metrics.evaluate import canonical

LENGTH_BINS = ((1, 5), (6, 10), (11, 20), (21, 40), (41, 10_000))
SENTENCE_END = frozenset({".", ",", ";"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("predictions", type=Path)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.predictions.read_text(encoding="utf-8").splitlines()]
    pairs = [(canonical(r["reference"]), canonical(r["latex"] or "")) for r in rows if not r.get("error")]

    print("| reference tokens | expressions | exact match |\n|---|---|---|")
    for low, high in LENGTH_BINS:
        hits = [ref == hyp for ref, hyp in pairs if low <= len(ref) <= high]
        if hits:
            print(f"| {low}–{high if high < 10_000 else '…'} | {len(hits)} | {100 * sum(hits) / len(hits):.1f}% |")

    closing = [(ref[-1], hyp[-1] if hyp else "") for ref, hyp in pairs if ref and ref[-1] in SENTENCE_END]
    wrote = [hyp in SENTENCE_END for _, hyp in closing]
    added = sum(1 for ref, hyp in pairs if ref and ref[-1] not in SENTENCE_END and hyp and hyp[-1] in SENTENCE_END)
    print(f"\nreferences closing with `.`, `,` or `;`: {len(closing)} of {len(pairs)}; the prediction closes with "
          f"one of them in {sum(wrote)}, with the same one in {sum(r == h for r, h in closing)}; "
          f"punctuation added where the reference has none: {added}")

    edits: dict[str, Counter] = {"replace": Counter(), "delete": Counter(), "insert": Counter()}
    for ref, hyp in pairs:
        for op, i1, i2, j1, j2 in SequenceMatcher(None, ref, hyp, autojunk=False).get_opcodes():
            if op != "equal":
                edits[op][(" ".join(ref[i1:i2]), " ".join(hyp[j1:j2]))] += 1
    names = {"replace": "reference → prediction", "delete": "missed", "insert": "added"}
    for op, counter in edits.items():
        print(f"\n{op} ({sum(counter.values())} in all), {names[op]}:\n")
        for (ref, hyp), n in counter.most_common(args.top):
            shown = f"`{ref}` → `{hyp}`" if op == "replace" else f"`{ref or hyp}`"
            print(f"- {shown}: {n}")


if __name__ == "__main__":
    main()
