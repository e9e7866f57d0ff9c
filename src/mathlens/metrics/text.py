"""Sequence metrics on normalized token lists: the numbers papers report for im2latex and CROHME.

BLEU-4 is corpus-level (as multi-bleu.perl, which im2markup uses); ExpRate is exact match, and
`<=1` / `<=2` count predictions within that many token edits.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two sequences (tokens or characters)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        cur = [i]
        for j, y in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i: i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]], max_n: int = 4) -> float:
    matches = [0] * max_n
    totals = [0] * max_n
    ref_len = hyp_len = 0
    for ref, hyp in zip(references, hypotheses):
        ref_len += len(ref)
        hyp_len += len(hyp)
        for n in range(1, max_n + 1):
            h, r = _ngrams(hyp, n), _ngrams(ref, n)
            matches[n - 1] += sum(min(c, r[g]) for g, c in h.items())
            totals[n - 1] += max(0, len(hyp) - n + 1)
    if hyp_len == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    brevity = min(0.0, 1.0 - ref_len / hyp_len)
    return math.exp(log_precision + brevity)


@dataclass(frozen=True)
class Scores:
    num_samples: int
    exact_match: float
    within_1: float
    within_2: float
    bleu4: float
    token_edit_distance: float  # mean edits / mean reference length (lower is better)
    cer: float  # character error rate on the compact LaTeX strings

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def score(references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]]) -> Scores:
    """All metrics at once; both sides must already be normalized the same way."""
    if len(references) != len(hypotheses):
        raise ValueError("references and hypotheses differ in length")
    n = len(references)
    if n == 0:
        return Scores(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    dists = [edit_distance(r, h) for r, h in zip(references, hypotheses)]
    ref_tokens = sum(len(r) for r in references)
    char_dists = sum(edit_distance("".join(r), "".join(h)) for r, h in zip(references, hypotheses))
    ref_chars = sum(len("".join(r)) for r in references)
    return Scores(
        num_samples=n,
        exact_match=sum(d == 0 for d in dists) / n,
        within_1=sum(d <= 1 for d in dists) / n,
        within_2=sum(d <= 2 for d in dists) / n,
        bleu4=corpus_bleu(references, hypotheses),
        token_edit_distance=sum(dists) / max(1, ref_tokens),
        cer=char_dists / max(1, ref_chars),
    )
