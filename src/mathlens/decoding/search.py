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


@dataclass(frozen=True)
class Hypothesis:
    ids: list[int]
    score: float  # mean log-probability per token
    stopped_by_guard: bool = False


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
    return [Hypothesis(s, float(lp / (len(s) + 1)), g) for s, lp, g in zip(seqs, logps, guard)]


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

    With `right_to_left` (a model trained to read both ways) the best `beam_size` candidates
    of each image are ranked again by the mean of both readings' log-probabilities.
    """
    if cfg.beam_size <= 1:
        return greedy(model, state, batch_size, cfg)
    K = cfg.beam_size
    start = state
    state = model.select(state, np.repeat(np.arange(batch_size), K))  # (B*K) rows
    beams: list[list[list[int]]] = [[[] for _ in range(K)] for _ in range(batch_size)]
    scores = np.full((batch_size, K), -np.inf)
    scores[:, 0] = 0.0  # identical beams at the start: let only one expand
    finished: list[list[tuple[list[int], float]]] = [[] for _ in range(batch_size)]  # (ids, log-prob sum)
    tokens = np.full(batch_size * K, BOS_ID, dtype=np.int64)
    done = np.zeros(batch_size, dtype=bool)

    def rank(logp_sum: float, length: int) -> float:
        return logp_sum / max(1, length) ** cfg.length_penalty

    def by_rank(entry: tuple[list[int], float]) -> float:  # a finished (ids, log-prob sum), EOS counted
        return rank(entry[1], len(entry[0]) + 1)

    for position in range(cfg.max_len):
        logits, state = model.step(state, tokens, position)
        logp = _log_softmax(logits.astype(np.float32)).reshape(batch_size, K, -1)
        V = logp.shape[-1]
        total = scores[:, :, None] + logp  # (B, K, V)
        flat = total.reshape(batch_size, -1)
        top = np.argsort(-flat, axis=1)[:, : 2 * K]  # (B, 2K) candidates
        rows = np.arange(batch_size * K)  # slots left empty keep their row
        new_tokens = np.full(batch_size * K, EOS_ID, dtype=np.int64)
        new_scores = np.full((batch_size, K), -np.inf)
        new_beams: list[list[list[int]]] = []
        for b in range(batch_size):
            kept: list[list[int]] = []
            for cand in top[b]:
                if done[b] or len(kept) == K:
                    break
                k, tok = divmod(int(cand), V)
                s = float(flat[b, cand])
                if not np.isfinite(s):
                    continue
                seq = beams[b][k]
                if tok == EOS_ID or is_looping(seq + [tok], cfg):
                    finished[b].append((seq if tok == EOS_ID else seq + [tok], s))
                    continue
                slot = len(kept)
                kept.append(seq + [tok])
                rows[b * K + slot] = b * K + k
                new_tokens[b * K + slot] = tok
                new_scores[b, slot] = s
            while len(kept) < K:
                kept.append([])
            new_beams.append(kept)
            best_open = rank(new_scores[b].max(), position + 1) if np.isfinite(new_scores[b].max()) else -np.inf
            if len(finished[b]) >= K and max(map(by_rank, finished[b])) >= best_open:
                done[b] = True
        if done.all():
            break
        beams, scores, tokens = new_beams, new_scores, new_tokens
        state = model.reorder(state, rows)
    pools = []
    for b in range(batch_size):
        pool = finished[b] or [(beams[b][k], scores[b, k]) for k in range(K) if np.isfinite(scores[b, k])]
        pools.append(sorted(pool, key=by_rank, reverse=True)[:K])
    if right_to_left:
        owners = np.array([b for b, pool in enumerate(pools) for _ in pool])
        backwards = iter(right_to_left_logp(model, model.select(start, owners), [ids for pool in pools for ids, _ in pool]))
        pools = [[(ids, (s + next(backwards)) / 2) for ids, s in pool] for pool in pools]
    results = []
    for pool in pools:
        ids, logp = max(pool, key=by_rank)
        results.append(Hypothesis(list(ids), float(logp / (len(ids) + 1))))
    return results
