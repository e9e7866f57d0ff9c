"""The torch model as a `StepModel` for the shared search code (training-time validation, parity)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mathlens.models.im2latex import Im2Latex


class TorchStepModel:
    def __init__(self, model: Im2Latex) -> None:
        self.model = model

    @torch.no_grad()
    def start(self, images: torch.Tensor, pixel_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        memory, memory_mask = self.model.encode(images, pixel_mask)
        cross_k, cross_v = self.model.decoder.cross_cache(memory)
        self_k, self_v = self.model.empty_cache(images.shape[0], images.device)
        return {"self_k": self_k, "self_v": self_v, "cross_k": cross_k, "cross_v": cross_v, "mask": memory_mask}

    @torch.no_grad()
    def step(self, state: dict[str, torch.Tensor], tokens: np.ndarray, position: int) -> tuple[np.ndarray, Any]:
        device = state["mask"].device
        token = torch.from_numpy(tokens).to(device)[:, None]
        logits, k, v = self.model.decode_step(token, torch.tensor(position, device=device), state["self_k"],
                                              state["self_v"], state["cross_k"], state["cross_v"], state["mask"])
        return logits.float().cpu().numpy(), {**state, "self_k": k, "self_v": v}

    def select(self, state: dict[str, torch.Tensor], rows: np.ndarray) -> dict[str, torch.Tensor]:
        idx = torch.from_numpy(rows).to(state["mask"].device)
        return {name: t.index_select(0 if name == "mask" else 1, idx) for name, t in state.items()}

    def reorder(self, state: dict[str, torch.Tensor], rows: np.ndarray) -> dict[str, torch.Tensor]:
        idx = torch.from_numpy(rows).to(state["mask"].device)
        return {**state, "self_k": state["self_k"].index_select(1, idx), "self_v": state["self_v"].index_select(1, idx)}
