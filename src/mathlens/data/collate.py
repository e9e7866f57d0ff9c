"""Batches: padded images with pixel masks, and shifted token targets."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from mathlens.inference.preprocess import pad_batch
from mathlens.tokenizer.vocab import Vocab


@dataclass
class Batch:
    images: torch.Tensor  # (B, 1, H, W) ink=1, padding 0
    pixel_mask: torch.Tensor  # (B, 1, H, W) 1 where the image is
    tgt_in: torch.Tensor  # (B, T) BOS + tokens
    tgt_out: torch.Tensor  # (B, T) tokens + EOS, PAD elsewhere

    def to(self, device: torch.device | str) -> Batch:
        return Batch(*(t.to(device) for t in (self.images, self.pixel_mask, self.tgt_in, self.tgt_out)))

    def __len__(self) -> int:
        return self.images.shape[0]


def collate(samples: Sequence[tuple[np.ndarray, list[int]]], pad_id: int = Vocab.pad_id) -> Batch:
    images, mask = (torch.from_numpy(a) for a in pad_batch([s[0] for s in samples]))
    T = max(len(s[1]) for s in samples) - 1
    tgt = torch.full((len(samples), T + 1), pad_id, dtype=torch.long)
    for i, (_, ids) in enumerate(samples):
        tgt[i, : len(ids)] = torch.tensor(ids)
    tgt_in = tgt[:, :-1].clone()
    tgt_in[tgt_in == Vocab.eos_id] = pad_id  # shorter rows: EOS is a target, never an input
    return Batch(images, mask, tgt_in, tgt[:, 1:].clone())


def right_to_left(tgt_out: torch.Tensor, start_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forcing inputs and targets that read each formula backwards, from its targets.

    `[t1 .. tn, EOS, PAD ..]` -> inputs `[start, tn .. t1, PAD ..]`, targets `[tn .. t1, EOS, PAD ..]`.
    `start_id` in place of BOS tells the decoder which way to read.
    """
    lengths = (tgt_out != Vocab.pad_id).sum(dim=1) - 1  # tokens before EOS
    T = tgt_out.shape[1]
    position = torch.arange(T, device=tgt_out.device)[None, :]
    source = (lengths[:, None] - 1 - position).clamp(min=0)
    out = torch.where(position < lengths[:, None], tgt_out.gather(1, source), Vocab.pad_id)
    out = torch.where(position == lengths[:, None], Vocab.eos_id, out)
    inputs = torch.cat([torch.full_like(out[:, :1], start_id), out[:, :-1]], dim=1)
    inputs = torch.where(position <= lengths[:, None], inputs, Vocab.pad_id)
    return inputs, out


class LengthBucketSampler:
    """Batches of similar target length (and so image width) under a token budget.

    Samples are drawn from shuffled pools and sorted inside a pool, which keeps padding low
    without making batches predictable. Short formulas are subsampled with `keep_prob`. Given
    image `sizes` (height, width), a pool is grouped into height bands and sorted by width
    inside a band: one tall or wide image would otherwise pad every other image in its batch.
    """

    def __init__(self, lengths: Sequence[int], max_batch_size: int, max_tokens_per_batch: int,
                 keep_prob: Sequence[float] | None = None, pool_size: int = 4096, seed: int = 0,
                 sizes: Sequence[tuple[float, float]] | None = None, height_band: float = 24.0) -> None:
        self.lengths = list(lengths)
        # Sort key inside a pool: (height band, width), or the target length when sizes are unknown.
        self.keys = ([(int(h // height_band), w) for h, w in sizes] if sizes is not None
                     else [(0, float(n)) for n in self.lengths])
        self.max_batch_size = max_batch_size
        self.max_tokens = max_tokens_per_batch
        self.keep_prob = keep_prob
        self.pool_size = pool_size
        self.seed = seed
        self.epoch = 0
        self._batches = self._make_batches()

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self._batches = self._make_batches()

    def _make_batches(self) -> list[list[int]]:
        rng = random.Random(self.seed * 7919 + self.epoch)
        order = [i for i in range(len(self.lengths)) if self.keep_prob is None or rng.random() < self.keep_prob[i]]
        rng.shuffle(order)
        batches: list[list[int]] = []
        for start in range(0, len(order), self.pool_size):
            pool = sorted(order[start: start + self.pool_size], key=lambda i: self.keys[i])
            batch: list[int] = []
            for i in pool:
                longest = max(self.lengths[i], max((self.lengths[j] for j in batch), default=0)) + 2
                new_band = bool(batch) and self.keys[i][0] != self.keys[batch[-1]][0]
                if batch and (new_band or len(batch) >= self.max_batch_size or longest * (len(batch) + 1) > self.max_tokens):
                    batches.append(batch)
                    batch = []
                batch.append(i)
            if batch:
                batches.append(batch)
        rng.shuffle(batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._batches
        self.set_epoch(self.epoch + 1)
        return iter(batches)

    def __len__(self) -> int:
        return len(self._batches)
