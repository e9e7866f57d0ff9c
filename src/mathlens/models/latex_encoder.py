"""A LaTeX encoder learned from formulas alone: masked tokens and bracket depth (`mathlens pretrain`).

Text only, so it trains in minutes on the corpus. Its uses: features of a formula for a reward
that judges a reading by meaning rather than by exact tokens (`features`: mean-pooled, unit
length, so that two formulas compare by cosine), and weights to start a decoder from; it shares
the recognizer's vocabulary so that both fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mathlens.models.layers import sinusoid_1d


@dataclass(frozen=True)
class LatexEncoderConfig:
    vocab_size: int = 0  # set from the vocabulary
    dim: int = 256
    layers: int = 4
    heads: int = 4
    ff: int = 1024
    dropout: float = 0.1
    max_len: int = 256
    depth_classes: int = 8  # bracket depths 0..6, and 7 for anything deeper


class LatexEncoder(nn.Module):
    def __init__(self, cfg: LatexEncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.dim, padding_idx=0)
        # Embeddings of unit scale after the sqrt(dim) factor, as large as the position table: at
        # N(0, 1) they drowned the positions and the masked-token accuracy stalled near 22%.
        nn.init.normal_(self.embed.weight, std=cfg.dim ** -0.5)
        with torch.no_grad():
            self.embed.weight[0].zero_()
        layer = nn.TransformerEncoderLayer(cfg.dim, cfg.heads, cfg.ff, cfg.dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.dim)
        self.tokens_head = nn.Linear(cfg.dim, cfg.vocab_size)
        self.depth_head = nn.Linear(cfg.dim, cfg.depth_classes)
        self.register_buffer("positions", sinusoid_1d(cfg.max_len, cfg.dim), persistent=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids, 0 = padding -> (B, T, dim) contextual states."""
        x = self.embed(ids) * self.cfg.dim ** 0.5 + self.positions[: ids.shape[1]]
        return self.norm(self.encoder(x, src_key_padding_mask=ids == 0))

    def heads(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """States -> (token logits, bracket-depth logits) at every position."""
        return self.tokens_head(states), self.depth_head(states)

    @torch.no_grad()
    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, T) ids -> (B, dim) unit vectors: the formulas' states averaged over their tokens."""
        states = self.forward(ids)
        keep = (ids != 0).unsqueeze(-1).to(states.dtype)
        pooled = (states * keep).sum(1) / keep.sum(1).clamp(min=1)
        return nn.functional.normalize(pooled, dim=-1)
