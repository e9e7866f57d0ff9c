"""The share of predictions that compile: each typeset by TeX Live and rendered by KaTeX.

    python benchmarks/render_rate.py .cache/bench/im2latex_val1000_pred.jsonl .cache/bench/crohme2014_inkml_pred.jsonl

Reads `*_pred.jsonl` files of `mathlens eval` or `mathlens measure` and prints, per file, how many
readings TeX and KaTeX accept, with the first failures and their reasons.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mathlens.metrics.renders import katex_errors, tex_failures


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("| predictions | n | TeX Live renders | KaTeX renders |\n|---|---:|---:|---:|")
    failures = []
    for name in sys.argv[1:]:
        rows = [json.loads(line) for line in Path(name).read_text(encoding="utf-8").splitlines()]
        latex = [r["latex"] for r in rows if not r.get("error")]
        tex, katex = tex_failures(latex), katex_errors(latex)
        n = max(1, len(latex))
        print(f"| {Path(name).name} | {len(latex)} | {1 - sum(tex) / n:.2%} | {1 - sum(e is not None for e in katex) / n:.2%} |")
        failures += [(f, "TeX") for f, bad in zip(latex, tex) if bad]
        failures += [(f, f"KaTeX: {e}") for f, e in zip(latex, katex) if e is not None]
    for formula, why in failures[:10]:
        print(f"  {formula!r}: {why}")


if __name__ == "__main__":
    main()
