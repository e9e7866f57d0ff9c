"""Greedy and beam search over any step function (torch or onnxruntime), in numpy.

A `StepModel` hides the backend: `step` turns the last tokens into log-probabilities and a new
state, `select` keeps or repeats rows of the state (finished rows dropped, beams made) and
`reorder` moves only the hypotheses' own cache (beams reordered within their image).

A model trained to read right to left as well (bidirectional training, as in BTTR) starts that
reading from `R2L_ID`; beam search can then rescore its candidates with both readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from mathlens.config import DecodeConfig

BOS_ID, EOS_ID = 1, 2
R2L_ID = EOS_ID  # first input of a right-to-left reading: EOS is never an input otherwise


class StepModel(Protocol):
    def step(self, state: Any, tokens: np.ndarray, position: int) -> tuple[np.ndarray, Any]:
        """tokens (N,) int64 -> log-probabilities (N, V) and the advanced state."""

    def select(self, state: Any, rows: np.ndarray) -> Any:
        """Keep state rows in the given order (rows may repeat)."""

    def reorder(self, state: Any, rows: np.ndarray) -> Any:
        """Like select, for rows that stay within their image: the image's encoding stays put."""


Entry = tuple[list[int], float, float]  # a reading in the beam: ids, log-prob sum, weakest token's log-prob


@dataclass(frozen=True)
class Hypothesis:
    ids: list[int]
    score: float  # mean log-probability per token
    stopped_by_guard: bool = False
    min_logp: float = 0.0  # the weakest token's log-probability (EOS included): one doubtful symbol shows here


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def is_looping(ids: list[int], cfg: DecodeConfig) -> bool:
    """True when the tail is one short n-gram repeated `max_repeats` times (a decoding loop)."""
    tail = ids[-cfg.repeat_window:]
    for n in range(1, 7):
        if len(tail) < n * cfg.max_repeats:
            break
        gram = tail[-n:]
        if all(tail[-(k + 1) * n: len(tail) - k * n] == gram for k in range(cfg.max_repeats)):
            return True
    return False


def greedy(model: StepModel, state: Any, batch_size: int, cfg: DecodeConfig) -> list[Hypothesis]:
    """Batched greedy decoding; finished rows leave the batch so the rest runs faster."""
    seqs: list[list[int]] = [[] for _ in range(batch_size)]
    logps = np.zeros(batch_size)
    weakest = np.zeros(batch_size)
    guard = [False] * batch_size
    active = np.arange(batch_size)
    tokens = np.full(batch_size, BOS_ID, dtype=np.int64)
    for position in range(cfg.max_len):
        logits, state = model.step(state, tokens, position)
        logp = _log_softmax(logits.astype(np.float32))
        nxt = logp.argmax(axis=-1)
        keep = []
        for row, (b, tok) in enumerate(zip(active, nxt)):
            logps[b] += logp[row, tok]
            weakest[b] = min(weakest[b], logp[row, tok])
            if tok == EOS_ID:
                continue
            seqs[b].append(int(tok))
            if is_looping(seqs[b], cfg):
                guard[b] = True
                continue
            keep.append(row)
        if not keep:
            break
        if len(keep) < len(active):
            rows = np.array(keep)
            state = model.select(state, rows)
            active, nxt = active[rows], nxt[rows]
        tokens = nxt.astype(np.int64)
    return [Hypothesis(s, float(lp / (len(s) + 1)), g, float(w)) for s, lp, g, w in zip(seqs, logps, guard, weakest)]


def right_to_left_logp(model: StepModel, state: Any, seqs: list[list[int]]) -> np.ndarray:
    """log P(each sequence read backwards, then EOS) by teacher forcing; `state` has a row per sequence."""
    lengths = np.array([len(seq) + 1 for seq in seqs])  # with the closing EOS
    targets = np.full((len(seqs), lengths.max()), EOS_ID, dtype=np.int64)
    for row, seq in enumerate(seqs):
        targets[row, : len(seq)] = seq[::-1]
    rows = np.arange(len(seqs))
    tokens = np.full(len(seqs), R2L_ID, dtype=np.int64)
    total = np.zeros(len(seqs))
    for position in range(targets.shape[1]):
        logits, state = model.step(state, tokens, position)
        logp = _log_softmax(logits.astype(np.float32))
        tokens = targets[:, position]
        total += np.where(position < lengths, logp[rows, tokens], 0.0)
    return total


def beam_search(model: StepModel, state: Any, batch_size: int, cfg: DecodeConfig,
                right_to_left: bool = False) -> list[Hypothesis]:
    """Batched beam search; hypotheses are ranked by log-prob / length**length_penalty.

    Runs the beam machinery for any `beam_size`, 1 included (the predictor calls `greedy` for
    that, which is faster and gives the same readings). With `right_to_left` (a model trained to
    read both ways) the best `beam_size` candidates of each image are ranked again by the mean of
    both readings' log-probabilities.
    """
    K = cfg.beam_size
    start = state
    state = model.select(state, np.repeat(np.arange(batch_size), K))  # (B*K) rows
    beams: list[list[list[int]]] = [[[] for _ in range(K)] for _ in range(batch_size)]
    scores = np.full((batch_size, K), -np.inf)
    scores[:, 0] = 0.0  # identical beams at the start: let only one expand
    weakest = np.zeros((batch_size, K))  # each beam's lowest token log-prob
    finished: list[list[Entry]] = [[] for _ in range(batch_size)]
    tokens = np.full(batch_size * K, BOS_ID, dtype=np.int64)
    alive = np.arange(batch_size)  # the images whose K rows the state holds, in order
    for position in range(cfg.max_len):
        logits, state = model.step(state, tokens, position)
        logp = _log_softmax(logits.astype(np.float32)).reshape(len(alive), K, -1)
        flat = (scores[alive][:, :, None] + logp).reshape(len(alive), -1)  # (A, K*V)
        top = np.argsort(-flat, axis=1)[:, : 2 * K]  # (A, 2K) candidates
        rows = np.arange(len(alive) * K)  # slots left empty keep their row
        tokens = np.full(len(alive) * K, EOS_ID, dtype=np.int64)
        still = []
        for i, b in enumerate(alive):
            kept = _expand(beams[b], flat[i], top[i], logp[i], weakest[b], finished[b], cfg)
            scores[b], weakest[b] = -np.inf, 0.0
            for slot, (k, tok, (seq, score, worst)) in enumerate(kept):
                rows[i * K + slot], tokens[i * K + slot] = i * K + k, tok
                scores[b, slot], weakest[b, slot] = score, worst
            beams[b] = [seq for _, _, (seq, _, _) in kept] + [[]] * (K - len(kept))
            if not _settled(finished[b], scores[b], position + 1, cfg):
                still.append(i)
        if not still:
            break
        if len(still) < len(alive):  # settled images leave the batch, so the rest runs faster
            keep = (np.array(still)[:, None] * K + np.arange(K)).ravel()
            state, tokens, alive = model.select(state, rows[keep]), tokens[keep], alive[still]
        else:
            state = model.reorder(state, rows)
    pools = []
    for b in range(batch_size):
        pool = finished[b] or [(beams[b][k], scores[b, k], weakest[b, k]) for k in range(K) if np.isfinite(scores[b, k])]
        pools.append(sorted(pool, key=lambda entry: _finished_rank(entry, cfg), reverse=True)[:K])
    if right_to_left:
        pools = _rescore_both_ways(model, start, pools)
    best = [max(pool, key=lambda entry: _finished_rank(entry, cfg)) for pool in pools]
    return [Hypothesis(list(ids), float(logp_sum / (len(ids) + 1)), min_logp=float(worst)) for ids, logp_sum, worst in best]


def _rank(logp_sum: float, length: int, cfg: DecodeConfig) -> float:
    return logp_sum / max(1, length) ** cfg.length_penalty


def _finished_rank(entry: Entry, cfg: DecodeConfig) -> float:
    """Rank of a finished reading, its EOS counted in the length."""
    return _rank(entry[1], len(entry[0]) + 1, cfg)


def _expand(seqs: list[list[int]], flat: np.ndarray, top: np.ndarray, logp: np.ndarray, weakest: np.ndarray,
            finished: list[Entry], cfg: DecodeConfig) -> list[tuple[int, int, Entry]]:
    """One image's next beams from its best candidates: (source beam, token, its reading) each.

    Candidates that end the formula (EOS, or a decoding loop) go to `finished` instead.
    """
    vocab_size = flat.size // cfg.beam_size
    kept: list[tuple[int, int, Entry]] = []
    for cand in top:
        if len(kept) == cfg.beam_size:
            break
        k, tok = divmod(int(cand), vocab_size)
        score = float(flat[cand])
        if not np.isfinite(score):
            continue
        seq, worst = seqs[k], min(float(weakest[k]), float(logp[k, tok]))
        if tok == EOS_ID or is_looping(seq + [tok], cfg):
            finished.append((seq if tok == EOS_ID else seq + [tok], score, worst))
            continue
        kept.append((k, tok, (seq + [tok], score, worst)))
    return kept


def _settled(finished: list[Entry], open_scores: np.ndarray, length: int, cfg: DecodeConfig) -> bool:
    """True once `beam_size` readings are finished and none still open can outrank the best of them."""
    best = open_scores.max()
    best_open = _rank(best, length, cfg) if np.isfinite(best) else -np.inf
    return len(finished) >= cfg.beam_size and max(_finished_rank(e, cfg) for e in finished) >= best_open


def _rescore_both_ways(model: StepModel, start: Any, pools: list[list[Entry]]) -> list[list[Entry]]:
    """Each candidate's log-prob sum replaced by the mean of its left-to-right and right-to-left sums."""
    owners = np.array([b for b, pool in enumerate(pools) for _ in pool])
    backwards = iter(right_to_left_logp(model, model.select(start, owners), [ids for pool in pools for ids, _, _ in pool]))
    return [[(ids, (s + next(backwards)) / 2, worst) for ids, s, worst in pool] for pool in pools]
