"""Token <-> id mapping with the special tokens every model shares."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)


@dataclass(frozen=True)
class Vocab:
    """Ids 0..3 are PAD, BOS, EOS, UNK; the rest are LaTeX tokens, most frequent first."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.tokens[: len(SPECIALS)] != SPECIALS:
            raise ValueError(f"vocab must start with {SPECIALS}")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})

    pad_id, bos_id, eos_id, unk_id = 0, 1, 2, 3

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index  # type: ignore[attr-defined]

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Token list -> ids, wrapped in BOS/EOS; unknown tokens become UNK."""
        index: dict[str, int] = self._index  # type: ignore[attr-defined]
        return [self.bos_id, *(index.get(t, self.unk_id) for t in tokens), self.eos_id]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Ids -> tokens, stopping at EOS and skipping the other specials."""
        out: list[str] = []
        for i in ids:
            if i == self.eos_id:
                break
            if i >= len(SPECIALS) and i < len(self.tokens):
                out.append(self.tokens[i])
        return out

    def to_json(self) -> str:
        return json.dumps(list(self.tokens), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocab:
        return cls(tuple(json.loads(text)))

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocab:
        return cls.from_json(path.read_text(encoding="utf-8"))

    @classmethod
    def shipped(cls) -> Vocab:
        """The vocabulary of the model shipped in the package (weights/model.json)."""
        meta = json.loads((resources.files("mathlens") / "weights" / "model.json").read_text(encoding="utf-8"))
        return cls(tuple(meta["vocab"]))

    @classmethod
    def build(cls, sequences: Iterable[list[str]], min_count: int = 10) -> Vocab:
        """Keep tokens seen at least `min_count` times: covers the corpus without a long tail."""
        counts = Counter(t for seq in sequences for t in seq)
        kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        return cls(SPECIALS + tuple(t for t in kept if t not in SPECIALS))
