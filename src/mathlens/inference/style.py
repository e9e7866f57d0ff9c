"""Printed or handwritten? A probe on the recognizer's own encoder, so the views go where they pay.

Reading a picture at a second size gains about 3 points of exact match on handwriting and about
half a point on print, at nearly twice the time (docs/experiments.md, "Views for handwriting
only"). The probe is a logistic regression over the encoder's attention keys averaged over the
picture: one encoder pass, a dot product. Statistics of the ink itself (edge directions, grey
edges, run lengths) told the two apart far worse: at 99% of handwriting kept, 22% of print read
once against 90%. `mathlens fit-cue` fits it on the training renders and stores it in model.json;
a model without one reads every picture at every view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def pooled_keys(cross_k: np.ndarray, memory_mask: np.ndarray) -> np.ndarray:
    """cross_k (L, B, h, S, hd) and the additive mask (B, 1, 1, S) -> (B, L*h*hd), the mean over the
    picture's positions."""
    keep = (memory_mask.reshape(memory_mask.shape[0], -1) > -1.0).astype(np.float32)  # (B, S)
    total = np.einsum("lbhsd,bs->blhd", cross_k, keep)
    return (total / np.maximum(keep.sum(1), 1.0)[:, None, None, None]).reshape(keep.shape[0], -1)


@dataclass(frozen=True)
class StyleProbe:
    """`model.json`'s "handwriting_probe": weights over `pooled_keys`, and a bias that sets the threshold."""

    weights: tuple[float, ...]
    bias: float

    def handwritten(self, features: np.ndarray) -> np.ndarray:
        """(B, F) pooled keys -> (B,) True where the picture is taken for handwriting."""
        return features @ np.asarray(self.weights, dtype=np.float32) + self.bias > 0.0
