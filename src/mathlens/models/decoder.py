"""Transformer decoder with an explicit cache, so greedy, beam search and ONNX share one step."""

from __future__ import annotations

import torch
from torch import nn

from mathlens.config import DecoderConfig
from mathlens.models.layers import Attention, FeedForward


class DecoderLayer(nn.Module):
    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.ln1, self.ln2, self.ln3 = (nn.LayerNorm(cfg.d_model) for _ in range(3))
        self.self_attn = Attention(cfg.d_model, cfg.num_heads)
        self.cross_attn = Attention(cfg.d_model, cfg.num_heads)
        self.ff = FeedForward(cfg.d_model, cfg.ff_dim, cfg.dropout)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(
        self,
        x: torch.Tensor,  # (B, T, D)
        self_k: torch.Tensor,  # (B, h, T', hd): keys of all positions attended to
        self_v: torch.Tensor,
        causal: bool,  # True in teacher forcing; a cached step attends to everything before it
        cross_k: torch.Tensor,  # (B, h, S, hd)
        cross_v: torch.Tensor,
        memory_mask: torch.Tensor,  # (B, 1, 1, S)
    ) -> torch.Tensor:
        x = x + self.drop(self.self_attn.attend(self.ln1(x), self_k, self_v, None, causal))
        x = x + self.drop(self.cross_attn.attend(self.ln2(x), cross_k, cross_v, memory_mask))
        return x + self.drop(self.ff(self.ln3(x)))


class Decoder(nn.Module):
    def __init__(self, cfg: DecoderConfig, vocab_size: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.num_layers))
        self.ln = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, vocab_size, bias=False)
        self.head.weight = self.embed.weight  # tied: fewer parameters, better sample efficiency
        nn.init.normal_(self.embed.weight, std=0.02)  # N(0, 1) would give huge tied logits
        nn.init.normal_(self.pos.weight, std=0.02)
        self.scale = cfg.d_model ** 0.5

    def cross_cache(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys/values of the memory for every layer, computed once per image: (L, B, h, S, hd) x2."""
        kvs = [layer.cross_attn.keys_values(memory) for layer in self.layers]
        return torch.stack([k for k, _ in kvs]), torch.stack([v for _, v in kvs])

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: tokens (B, T) -> logits (B, T, V)."""
        return self.head(self.states(tokens, memory, memory_mask))

    def states(self, tokens: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: tokens (B, T) -> the final states (B, T, D) the logits are read from."""
        B, T = tokens.shape
        x = self.embed(tokens) * self.scale + self.pos(torch.arange(T, device=tokens.device))  # (B, T, D)
        cross_k, cross_v = self.cross_cache(memory)
        for i, layer in enumerate(self.layers):
            k, v = layer.self_attn.keys_values(layer.ln1(x))
            x = layer(x, k, v, True, cross_k[i], cross_v[i], memory_mask)
        return self.ln(x)

    def step(
        self,
        token: torch.Tensor,  # (B, 1)
        position: torch.Tensor,  # () int64
        self_k: torch.Tensor,  # (L, B, h, t, hd), t = tokens decoded so far
        self_v: torch.Tensor,
        cross_k: torch.Tensor,  # (L, B, h, S, hd)
        cross_v: torch.Tensor,
        memory_mask: torch.Tensor,  # (B, 1, 1, S)
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One decoding step -> logits (B, V) and caches grown to t+1."""
        x = self.embed(token) * self.scale + self.pos(position.reshape(1))  # (B, 1, D)
        new_k, new_v = [], []
        for i, layer in enumerate(self.layers):
            k, v = layer.self_attn.keys_values(layer.ln1(x))  # (B, h, 1, hd)
            k = torch.cat([self_k[i], k], dim=2)
            v = torch.cat([self_v[i], v], dim=2)
            new_k.append(k)
            new_v.append(v)
            x = layer(x, k, v, False, cross_k[i], cross_v[i], memory_mask)
        logits = self.head(self.ln(x))[:, 0]  # (B, V)
        return logits, torch.stack(new_k), torch.stack(new_v)
