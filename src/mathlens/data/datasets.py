"""Torch dataset over manifest records."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from mathlens.data.manifest import Record
from mathlens.tokenizer.vocab import Vocab


class FormulaDataset(Dataset):
    def __init__(self, records: list[Record], vocab: Vocab,
                 transform: Callable[[Image.Image, float | None], np.ndarray]) -> None:
        self.records = records
        self.vocab = vocab
        self.transform = transform

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[np.ndarray, list[int]]:
        record = self.records[index]
        with Image.open(record.image_path) as image:
            array = self.transform(image, record.dpi)
        return array, self.vocab.encode(record.tokens)
