"""Reward fine-tuning by reading: self-critical REINFORCE (the LaTeX-OCR + RL recipe's stage 2).

For a few images of each batch the model reads `samples` times by sampling and once greedily;
each sampled reading is pushed up or down by how much better it scored than the greedy one
(the baseline, so no value network is needed). The score of a reading against the reference:
- `cosine`: cosine of the pretrained LaTeX encoder's features (`mathlens pretrain`), which
  judges meaning rather than exact tokens, plus `exact_bonus` when the tokens are exactly right
  (the features hardly move for one wrong digit, so the bonus carries the exactness);
- `edit`: 1 - token edit distance / reference length, plus the same bonus.
The loss is added to cross-entropy, which keeps the readings fluent (mixed training).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.nn import functional as F

from mathlens.config import RewardConfig
from mathlens.metrics.text import edit_distance
from mathlens.models.decoder import Decoder
from mathlens.tokenizer.vocab import Vocab

BOS_ID, EOS_ID, PAD_ID = Vocab.bos_id, Vocab.eos_id, Vocab.pad_id


@torch.no_grad()
def sample_readings(decoder: Decoder, memory: torch.Tensor, memory_mask: torch.Tensor, greedy_rows: torch.Tensor,
                    max_len: int, temperature: float = 1.0) -> torch.Tensor:
    """Read each memory row once, by sampling or (where greedy_rows) by argmax -> ids (N, T), EOS then PAD.

    Finished rows leave the batch once a quarter of it has finished: dropping them at every step
    copied the image encodings so often that it cost more than the decoding.
    """
    n = memory.shape[0]
    cross_k, cross_v = decoder.cross_cache(memory)
    layers, heads = cross_k.shape[0], cross_k.shape[2]
    head_dim = cross_k.shape[-1]
    self_k = memory.new_zeros(layers, n, heads, 0, head_dim)
    self_v = memory.new_zeros(layers, n, heads, 0, head_dim)
    out = torch.full((n, max_len), PAD_ID, dtype=torch.long, device=memory.device)
    rows = torch.arange(n, device=memory.device)  # the out row of each batch row
    done = torch.zeros(n, dtype=torch.bool, device=memory.device)
    token = torch.full((n, 1), BOS_ID, dtype=torch.long, device=memory.device)
    for position in range(max_len):
        logits, self_k, self_v = decoder.step(token, torch.tensor(position), self_k, self_v, cross_k, cross_v,
                                              memory_mask)
        logits = logits.float()
        drawn = torch.multinomial(F.softmax(logits / temperature, dim=-1), 1)[:, 0]
        nxt = torch.where(greedy_rows[rows], logits.argmax(-1), drawn).masked_fill(done, PAD_ID)
        out[rows, position] = nxt
        done = done | (nxt == EOS_ID)
        if bool(done.all()):
            break
        token = nxt[:, None]
        if int(done.sum()) * 4 >= len(done):
            keep = (~done).nonzero()[:, 0]
            rows, token, done = rows[keep], token[keep], done[keep]
            self_k, self_v = self_k[:, keep], self_v[:, keep]
            cross_k, cross_v, memory_mask = cross_k[:, keep], cross_v[:, keep], memory_mask[keep]
    return out


def readings_as_tokens(ids: torch.Tensor, vocab: Vocab) -> list[list[str]]:
    return [vocab.decode(row) for row in ids.tolist()]


class Reward:
    """Scores readings against references; holds the frozen LaTeX encoder for `cosine`."""

    def __init__(self, cfg: RewardConfig, vocab: Vocab) -> None:
        self.cfg, self.vocab = cfg, vocab
        self.encoder = None
        if cfg.kind == "cosine":
            if cfg.encoder is None:
                raise ValueError("reward kind cosine needs the pretrained LaTeX encoder (reward_encoder)")
            from mathlens.training.pretrain import load_encoder

            self.encoder, encoder_vocab = load_encoder(Path(cfg.encoder))
            if encoder_vocab != vocab:
                raise ValueError(f"{cfg.encoder} was pretrained with another vocabulary than the recognizer's")
            self.encoder.requires_grad_(False)
        elif cfg.kind != "edit":
            raise ValueError(f"reward kind must be cosine or edit, not {cfg.kind!r}")

    def __call__(self, hyps: list[list[str]], refs: list[list[str]]) -> torch.Tensor:
        exact = torch.tensor([h == r for h, r in zip(hyps, refs)], dtype=torch.float32)
        if self.encoder is None:
            close = torch.tensor([1.0 - edit_distance(r, h) / max(1, len(r)) for h, r in zip(hyps, refs)])
        else:
            close = (self._features(hyps) * self._features(refs)).sum(-1)
        return close + self.cfg.exact_bonus * exact

    def _features(self, rows: list[list[str]]) -> torch.Tensor:
        limit = self.encoder.cfg.max_len
        ids = [self.vocab.encode(r)[: limit - 1] + ([EOS_ID] if len(r) + 2 > limit else []) for r in rows]
        width = max(len(i) for i in ids)
        batch = torch.tensor([i + [PAD_ID] * (width - len(i)) for i in ids])
        return self.encoder.features(batch).float()


def self_critical_loss(decoder: Decoder, memory: torch.Tensor, memory_mask: torch.Tensor, refs: list[list[str]],
                       reward: Reward) -> tuple[torch.Tensor, dict[str, float]]:
    """REINFORCE with the greedy reading as baseline, over `reward.cfg.images` images.

    memory carries gradient; sampling does not. Returns the loss and what to log.
    """
    cfg = reward.cfg
    n = min(cfg.images, memory.shape[0])
    k = cfg.samples + 1  # the last of each image's rows reads greedily
    rows = torch.arange(n, device=memory.device).repeat_interleave(k)
    greedy_rows = (torch.arange(n * k, device=memory.device) % k) == k - 1
    max_len = min(cfg.max_len, max(len(r) for r in refs[:n]) + 10)  # a reading that long is wrong anyway
    ids = sample_readings(decoder, memory[rows].detach(), memory_mask[rows], greedy_rows, max_len, cfg.temperature)
    hyps = readings_as_tokens(ids, reward.vocab)
    scores = reward(hyps, [refs[int(r)] for r in rows]).view(n, k)
    advantage = (scores[:, :-1] - scores[:, -1:]).flatten().to(memory.device)  # (n * samples,)

    sampled = ~greedy_rows
    tgt_out = _trim(ids[sampled])
    tgt_in = torch.cat([torch.full_like(tgt_out[:, :1], BOS_ID), tgt_out[:, :-1]], dim=1)
    tgt_in = tgt_in.masked_fill(tgt_in == EOS_ID, PAD_ID)
    logits = decoder(tgt_in, memory[rows[sampled]], memory_mask[rows[sampled]]).float()
    token_logp = logits.log_softmax(-1).gather(-1, tgt_out[..., None])[..., 0]
    real = (tgt_out != PAD_ID).float()
    seq_logp = (token_logp * real).sum(1)
    loss = -(advantage * seq_logp).sum() / real.sum().clamp(min=1)
    return loss, {"reward": scores[:, :-1].mean().item(), "reward_greedy": scores[:, -1].mean().item(),
                  "exact_greedy": float(sum(hyps[i] == refs[int(rows[i])] for i in range(k - 1, n * k, k))) / n}


def _trim(ids: torch.Tensor) -> torch.Tensor:
    """Drop the all-padding columns on the right (readings that stopped early)."""
    width = int((ids != PAD_ID).sum(1).max().item()) if ids.numel() else 1
    return ids[:, : max(1, width)]
