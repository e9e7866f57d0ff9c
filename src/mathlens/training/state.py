"""The resumable state of the plain training loops (the page detector, the LaTeX encoder): one file,
`last.pt`, with the weights, the optimizer, the step and whatever the loop needs to rebuild its model."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

logger = logging.getLogger(__name__)


def save_state(path: Path, model: nn.Module, opt: torch.optim.Optimizer, step: int, **extra: Any) -> None:
    """Written to a temporary file first, so a run stopped mid-write keeps its last good state."""
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step, **extra}, tmp)
    tmp.replace(path)


def resume_state(path: Path, model: nn.Module, opt: torch.optim.Optimizer) -> int:
    """Load `path` into the model and optimizer if it exists; the step to go on from (0 if not)."""
    if not path.exists():
        return 0
    state = torch.load(path, map_location="cpu", weights_only=False)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    logger.info("resumed from %s at step %d", path, state["step"])
    return int(state["step"])
