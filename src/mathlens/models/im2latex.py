"""Im2Latex: the whole network. Plain nn.Module: no I/O, no devices, no training logic."""

from __future__ import annotations

import torch
from torch import nn

from mathlens.config import ModelConfig
from mathlens.models.decoder import Decoder
from mathlens.models.encoder import Encoder


class Im2Latex(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg.encoder, cfg.decoder.d_model)
        self.decoder = Decoder(cfg.decoder, cfg.vocab_size)

    def encode(self, images: torch.Tensor, pixel_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, H, W) -> memory (B, S, D), memory mask (B, 1, 1, S)."""
        return self.encoder(images, pixel_mask)

    def forward(self, images: torch.Tensor, pixel_mask: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (B, T, V) for next-token prediction."""
        memory, memory_mask = self.encode(images, pixel_mask)
        return self.decoder(tokens, memory, memory_mask)

    def empty_cache(self, batch_size: int, device: torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Self-attention caches with zero decoded positions: (L, B, h, 0, hd) x2."""
        d = self.cfg.decoder
        shape = (d.num_layers, batch_size, d.num_heads, 0, d.d_model // d.num_heads)
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)

    def decode_step(
        self,
        token: torch.Tensor,
        position: torch.Tensor,
        self_k: torch.Tensor,
        self_v: torch.Tensor,
        cross_k: torch.Tensor,
        cross_v: torch.Tensor,
        memory_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.decoder.step(token, position, self_k, self_v, cross_k, cross_v, memory_mask)
