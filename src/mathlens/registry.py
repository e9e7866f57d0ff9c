"""Explicit name -> model-config table; an unknown name raises KeyError with suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from mathlens.config import ModelConfig
from mathlens.models import variants

VARIANTS: dict[str, Callable[[int], ModelConfig]] = {
    "tiny": variants.tiny,
    "small": variants.small,
    "base": variants.base,
}


def model_config(name: str, vocab_size: int) -> ModelConfig:
    if name not in VARIANTS:
        close = difflib.get_close_matches(name, VARIANTS)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown model variant {name!r}{hint} (known: {sorted(VARIANTS)})")
    return VARIANTS[name](vocab_size)
