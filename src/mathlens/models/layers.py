"""Building blocks shared by the encoder and decoder."""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoid_1d(length: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """Classic sine/cosine table, (length, dim)."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)
    return table


def sinusoid_2d(height: int, width: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """2D encoding: half the channels encode the row, half the column; (H, W, dim)."""
    half = dim // 2
    rows = sinusoid_1d(height, half, device)[:, None, :].expand(height, width, half)
    cols = sinusoid_1d(width, half, device)[None, :, :].expand(height, width, half)
    return torch.cat([rows, cols], dim=-1)


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Attention(nn.Module):
    """Multi-head attention with separate q and kv inputs, so callers can cache k and v."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        return x.view(B, T, self.num_heads, D // self.num_heads).transpose(1, 2)  # (B, h, T, hd)

    def keys_values(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.kv(x).chunk(2, dim=-1)
        return self.split_heads(k), self.split_heads(v)  # (B, h, S, hd) each

    def attend(self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None,
               causal: bool = False) -> torch.Tensor:
        """`mask` is additive, broadcastable to (B, h, T, S).

        No dropout on attention weights and a mask in the query's dtype: that keeps SDPA on its
        fused CPU kernel, about twice as fast as the fallback in bf16 training.
        """
        B, T, D = x.shape
        q = self.split_heads(self.q(x))  # (B, h, T, hd)
        if mask is not None:
            mask = mask.to(q.dtype)
        y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
        return self.out(y.transpose(1, 2).reshape(B, T, D))  # (B, T, D)
