"""Torch dataset over manifest records."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from mathlens.data.manifest import Record
from mathlens.errors import InvalidInputError
from mathlens.tokenizer.vocab import Vocab

logger = logging.getLogger(__name__)


class FormulaDataset(Dataset):
    def __init__(self, records: list[Record], vocab: Vocab,
                 transform: Callable[[Image.Image, float | None], np.ndarray]) -> None:
        self.records = records
        self.vocab = vocab
        self.transform = transform

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[np.ndarray, list[int]]:
        for offset in range(len(self.records)):
            record = self.records[(index + offset) % len(self.records)]
            try:
                with Image.open(record.image_path) as image:
                    array = self.transform(image, record.dpi)
            except InvalidInputError:  # a blank render (e.g. only `\,`): take the next record
                logger.warning("skipping unusable training image %s", record.image_path)
                continue
            return array, self.vocab.encode(record.tokens)
        raise InvalidInputError("no usable training image in the dataset")
