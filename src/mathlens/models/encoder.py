"""CNN encoder: a small ResNet that keeps more width than height, then a transformer layer.

Formulas are wide and short, and neighbouring tokens sit side by side, so the last stage halves
only the height: a 64x384 image becomes a 4x48 grid of features.
"""

from __future__ import annotations

import torch
from torch import nn

from mathlens.config import EncoderConfig
from mathlens.models.layers import Attention, FeedForward, sinusoid_2d


class BasicBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels),
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


def _down(cin: int, cout: int, stride: tuple[int, int]) -> nn.Module:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class EncoderLayer(nn.Module):
    def __init__(self, dim: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.ff = FeedForward(dim, 4 * dim, dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        k, v = self.attn.keys_values(h)
        x = x + self.attn.attend(h, k, v, mask)
        return x + self.ff(self.ln2(x))


class Encoder(nn.Module):
    def __init__(self, cfg: EncoderConfig, d_model: int) -> None:
        super().__init__()
        self.strides = [(2, 2)] * (len(cfg.channels) - 1) + [(2, 1)]
        stages: list[nn.Module] = []
        cin = 1
        for cout, num_blocks, stride in zip(cfg.channels, cfg.blocks, self.strides):
            stages.append(nn.Sequential(_down(cin, cout, stride), *(BasicBlock(cout) for _ in range(num_blocks))))
            cin = cout
        self.stages = nn.Sequential(*stages)
        self.proj = nn.Linear(cin, d_model)
        self.layers = nn.ModuleList(EncoderLayer(d_model, cfg.num_heads, cfg.dropout) for _ in range(cfg.num_layers))
        self.ln = nn.LayerNorm(d_model)

    def feature_mask(self, pixel_mask: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) 1=image, 0=padding -> (B, 1, H', W') on the feature grid."""
        for stride in self.strides:
            pixel_mask = nn.functional.max_pool2d(pixel_mask, stride, stride, ceil_mode=True)
        return pixel_mask

    def forward(self, images: torch.Tensor, pixel_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images (B, 1, H, W) ink=1 -> memory (B, S, D) and additive key mask (B, 1, 1, S)."""
        feats = self.stages(images)  # (B, C, H', W')
        B, C, H, W = feats.shape
        x = self.proj(feats.flatten(2).transpose(1, 2))  # (B, S, D)
        x = x + sinusoid_2d(H, W, x.shape[-1], x.device).reshape(1, H * W, -1).to(x.dtype)
        keep = self.feature_mask(pixel_mask).flatten(1)  # (B, S)
        mask = ((1.0 - keep) * -1e4).to(x.dtype)[:, None, None, :]  # (B, 1, 1, S)
        for layer in self.layers:
            x = layer(x, mask)
        return self.ln(x), mask
