"""LightningDataModule over rendered manifests; batches bucketed by length, sharded per rank."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import lightning as L
from PIL import Image
from torch.utils.data import DataLoader

from mathlens.config import DataConfig, PreprocessConfig
from mathlens.data.collate import LengthBucketSampler, collate
from mathlens.data.datasets import FormulaDataset
from mathlens.data.manifest import Record, read_manifest
from mathlens.data.transforms import TrainTransform, eval_transform
from mathlens.tokenizer.vocab import Vocab


class RankShard:
    """Every rank takes every world_size-th batch, so DDP needs no sampler replacement.

    `skip` is how many batches this rank trained on before an interruption: the sampler's order
    is a function of (seed, epoch), so a resumed run replays the epochs and drops what was seen
    instead of starting its epoch over.
    """

    def __init__(self, sampler: LengthBucketSampler, rank: int, world_size: int, skip: int = 0) -> None:
        self.sampler, self.rank, self.world_size, self.skip = sampler, rank, world_size, skip

    def _epoch(self) -> list[list[int]]:
        batches = list(self.sampler)
        usable = len(batches) - len(batches) % self.world_size
        return batches[self.rank: usable: self.world_size]

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._epoch()
        while self.skip >= len(batches) > 0:
            self.skip -= len(batches)
            batches = self._epoch()
        batches, self.skip = batches[self.skip:], 0
        return iter(batches)

    def __len__(self) -> int:
        return len(self.sampler) // self.world_size


def short_formula_keep_prob(num_tokens: int, keep_all_from: int = 24) -> float:
    """Short formulas are plentiful and easy: see fewer of them, spend the compute on long ones.

    A formula shorter than `keep_all_from` tokens is used in proportion to its length, and
    never less often than one of five tokens would be.
    """
    return min(1.0, max(num_tokens, 4.8) / keep_all_from)


def expected_sizes(records: list[Record], dpi_range: tuple[float, float]) -> list[tuple[float, float]]:
    """Each image's (height, width) after the training rescale, on average; from the PNG headers only."""
    target = sum(dpi_range) / 2
    pixels: dict[Path, tuple[int, int]] = {}  # repeated records (train_weights) are read once
    sizes = []
    for record in records:
        if record.image_path not in pixels:
            with Image.open(record.image_path) as image:
                pixels[record.image_path] = (image.height, image.width)
        height, width = pixels[record.image_path]
        scale = target / record.dpi if record.dpi else 1.0
        sizes.append((height * scale, width * scale))
    return sizes


def repeat_records(records: list[Record], weight: float, rng: random.Random) -> list[Record]:
    """Each record `weight` times on average: how a small set (handwriting) gets its share of an epoch."""
    whole, part = divmod(weight, 1.0)
    return records * int(whole) + rng.sample(records, round(part * len(records)))


class FormulaDataModule(L.LightningDataModule):
    def __init__(self, cfg: DataConfig, vocab: Vocab, preprocess: PreprocessConfig, seed: int = 0) -> None:
        super().__init__()
        self.cfg, self.vocab, self.preprocess, self.seed = cfg, vocab, preprocess, seed
        self.train_records: list[Record] = []
        self.train_keep_prob: list[float] = []
        self.val_records: list[Record] = []

    def setup(self, stage: str | None = None) -> None:
        if not self.train_records:
            rng = random.Random(self.seed)
            for source in self.cfg.sources:
                records = [r for r in read_manifest(self.cfg.manifest(source)) if len(r.tokens) <= self.cfg.max_tokens]
                records = repeat_records(records, source.weight, rng)
                self.train_records += records
                self.train_keep_prob += [short_formula_keep_prob(len(r.tokens), source.keep_all_from) for r in records]
        if self.cfg.val_manifest is not None and not self.val_records:
            self.val_records = read_manifest(self.cfg.val_manifest, self.cfg.val_limit)

    def train_dataloader(self) -> DataLoader:
        lengths = [len(r.tokens) for r in self.train_records]
        sizes = expected_sizes(self.train_records, self.cfg.augment.dpi_range) if self.cfg.bucket_by_size else None
        sampler = LengthBucketSampler(lengths, self.cfg.max_batch_size, self.cfg.max_tokens_per_batch,
                                      keep_prob=self.train_keep_prob, seed=self.seed,
                                      sizes=sizes)
        rank = self.trainer.global_rank if self.trainer else 0
        world = self.trainer.world_size if self.trainer else 1
        done = self.trainer.global_step if self.trainer else 0  # restored before this is called
        dataset = FormulaDataset(self.train_records, self.vocab, TrainTransform(self.cfg.augment, self.preprocess))
        return DataLoader(dataset, batch_sampler=RankShard(sampler, rank, world, skip=done), collate_fn=collate,
                          num_workers=self.cfg.num_workers, persistent_workers=self.cfg.num_workers > 0)

    def val_dataloader(self) -> DataLoader:
        dataset = FormulaDataset(self.val_records, self.vocab, eval_transform(self.preprocess))
        return DataLoader(dataset, batch_size=32, collate_fn=collate, num_workers=0)
