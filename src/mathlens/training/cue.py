"""Fit the print/handwriting probe (inference/style.py) on a config's training renders.

The renders go through the training augmentation (blur, noise, JPEG, ruled paper, dark mode,
random resolution) and then the inference preprocessing, so the probe sees pictures as varied as
the model's, and the exported model's encoder reads them. Reading handwriting once costs about 3
points, reading print twice only time, so the threshold is set for the handwriting: a share
`recall` of handwritten renders set aside must be judged handwritten.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from PIL import Image

from mathlens.config import DataConfig
from mathlens.data.manifest import Record, read_manifest
from mathlens.data.transforms import TrainTransform
from mathlens.inference.predictor import Predictor
from mathlens.inference.preprocess import crop_to_ink, fit, normalize_scale, pad_batch
from mathlens.inference.style import StyleProbe, pooled_keys

PRINTED_KINDS = ("tex", "mathjax")
HANDWRITTEN_KINDS = ("ink", "ink_layout")


@dataclass(frozen=True)
class CueFit:
    probe: StyleProbe
    printed_right: float  # held-out printed renders judged printed (read once)
    handwritten_right: float  # held-out handwritten renders judged handwritten (read at every view)
    held_out: int  # renders of each kind the two shares are measured on (neither fitted nor tuned on)


def sample_records(data: DataConfig, kinds: tuple[str, ...], count: int, rng: random.Random) -> list[Record]:
    """`count` records drawn at random from the prepared sources of these kinds."""
    manifests = [data.manifest(s) for s in data.sources if s.kind in kinds and s.weight > 0]
    records = [r for path in manifests if path.is_file() for r in read_manifest(path)]
    if not records:
        raise ValueError(f"no prepared training source of kind {' or '.join(kinds)}: run `mathlens prepare` first")
    return rng.sample(records, min(count, len(records)))


def render_features(records: list[Record], data: DataConfig, predictor: Predictor, seed: int) -> np.ndarray:
    """Each record augmented as in training, preprocessed as at inference -> its pooled encoder keys."""
    pre = predictor.preprocess_config
    transform = TrainTransform(data.augment, pre, seed=seed)
    rows = []
    for record in records:
        with Image.open(record.image_path) as image:
            model_input = transform(image, record.dpi)
        state = predictor.backend.start(*pad_batch([fit(normalize_scale(crop_to_ink(model_input), pre), pre)]))
        rows.append(pooled_keys(state["cross_k"], state["memory_mask"])[0])
    return np.stack(rows)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 30) -> tuple[np.ndarray, float]:
    """Weights and bias on the raw features (standardized inside, folded back out), by Newton's method."""
    mean, std = x.mean(0), x.std(0) + 1e-6
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.diag([l2] * (z.shape[1] - 1) + [0.0]) * len(x)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        gradient = z.T @ (p - y) + penalty @ w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
        w -= np.linalg.solve(hessian, gradient)
    weights = w[:-1] / std
    return weights, float(w[-1] - weights @ mean)


def fit_cue(data: DataConfig, predictor: Predictor, samples: int = 2000, recall: float = 0.99,
            seed: int = 0) -> CueFit:
    """`samples` renders of each kind: half to fit the weights, a quarter to set the threshold, a
    quarter held out to report on."""
    rng = random.Random(seed)
    printed = render_features(sample_records(data, PRINTED_KINDS, samples, rng), data, predictor, seed)
    handwritten = render_features(sample_records(data, HANDWRITTEN_KINDS, samples, rng), data, predictor, seed + 1)
    (fit_p, tune_p, held_p), (fit_h, tune_h, held_h) = (np.array_split(a, [len(a) // 2, 3 * len(a) // 4])
                                                        for a in (printed, handwritten))
    weights, bias = fit_logistic(np.vstack([fit_p, fit_h]), np.r_[np.zeros(len(fit_p)), np.ones(len(fit_h))])
    bias -= min(0.0, float(np.quantile(tune_h @ weights + bias, 1.0 - recall)))  # lower the bar until `recall` is met
    probe = StyleProbe(tuple(float(v) for v in weights.astype(np.float32)), bias)
    return CueFit(probe, printed_right=float(np.mean(~probe.handwritten(held_p))),
                  handwritten_right=float(np.mean(probe.handwritten(held_h))),
                  held_out=min(len(held_p), len(held_h)))
