"""Counting-aware training (CAN, Li et al. 2022): an auxiliary loss, training only.

A handwritten formula is misread mostly by symbols dropped, doubled or swapped. A head that
must say from the encoder's features how many of each symbol the picture holds pushes those
features to localise every symbol, which the decoder then attends to. Unlike CAN, the counts
are not fed into the decoder: the exported network, its speed and the ONNX files stay as they
are.
"""

from __future__ import annotations

import torch
from torch import nn

from mathlens.tokenizer.vocab import SPECIALS, Vocab

# Tokens that carry structure, not a symbol on the page: they have no place to be counted.
UNCOUNTED = ("{", "}", "^", "_", "&", "\\\\", "\\left", "\\right", "\\limits", "\\nolimits")


def countable_mask(vocab: Vocab) -> torch.Tensor:
    """(V,) 1.0 for symbol tokens, 0.0 for special and structure tokens."""
    return torch.tensor([0.0 if t in SPECIALS or t in UNCOUNTED else 1.0 for t in vocab.tokens])


def token_counts(tgt_out: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """(B, T) target ids -> (B, V) how often each id occurs (padding included, masked later)."""
    counts = torch.zeros(tgt_out.shape[0], vocab_size, device=tgt_out.device)
    return counts.scatter_add_(1, tgt_out, torch.ones_like(tgt_out, dtype=counts.dtype))


class CountingHead(nn.Module):
    """Per-position symbol presence in [0, 1], summed over the image: (B, S, D) -> (B, V) counts."""

    def __init__(self, d_model: int, vocab: Vocab) -> None:
        super().__init__()
        self.proj = nn.Linear(d_model, len(vocab))
        # Start near zero counts: at sigmoid(0) every class would count half of the ~200 positions,
        # a loss in the thousands that would swamp the decoder's gradient in a run from trained weights.
        nn.init.constant_(self.proj.bias, -8.0)
        self.register_buffer("countable", countable_mask(vocab), persistent=False)

    def forward(self, memory: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        keep = (memory_mask[:, 0, 0, :] == 0).to(memory.dtype)  # (B, S), the additive mask is 0 on the image
        presence = torch.sigmoid(self.proj(memory)) * keep[..., None]
        return presence.sum(dim=1) * self.countable

    def loss(self, memory: torch.Tensor, memory_mask: torch.Tensor, tgt_out: torch.Tensor) -> torch.Tensor:
        """Smooth L1 between predicted and true counts, summed over symbols, averaged over the batch."""
        target = token_counts(tgt_out, self.countable.numel()) * self.countable
        predicted = self(memory, memory_mask).float()
        return nn.functional.smooth_l1_loss(predicted, target, reduction="sum") / tgt_out.shape[0]
