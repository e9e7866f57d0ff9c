"""Training augmentation: what real screenshots and scans do to a clean render.

Works on the uint8 grayscale render (black on white) before the shared `preprocess`, so training
and inference see images through the same code.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from mathlens.config import AugmentConfig, PreprocessConfig
from mathlens.errors import InvalidInputError
from mathlens.inference.preprocess import crop_to_ink, fit, preprocess, resize, to_ink


def build_pixel_augment(cfg: AugmentConfig) -> tuple[Any, Any]:
    """albumentations pipelines (imported here: only training needs them): geometry, then degradation.

    Geometry runs on the clean white render, so the corners it fills are page, not a white frame
    around a grey or shaded page.
    """
    import albumentations as A
    import cv2

    geometry = A.Affine(rotate=(-cfg.rotate_deg, cfg.rotate_deg), shear=(-cfg.shear_deg, cfg.shear_deg),
                        fit_output=True, border_mode=cv2.BORDER_CONSTANT, fill=255, p=0.3)
    degrade = A.Compose([
        A.GaussianBlur(blur_limit=(3, 3), sigma_limit=(0.3, 0.9), p=cfg.blur_p),
        A.GaussNoise(std_range=(0.02, 0.1), p=cfg.noise_p),
        A.ImageCompression(quality_range=(25, 90), p=cfg.jpeg_p),
    ])
    return geometry, degrade


def paper(gray: np.ndarray, rng: random.Random) -> np.ndarray:
    """Ruled or squared paper under uneven light, as in a phone photo of handwritten notes."""
    height, width = gray.shape
    spacing, shade = rng.uniform(14, 36), rng.uniform(150, 225)
    lines = np.full((height, width), 255, np.uint8)
    lines[np.arange(rng.uniform(0, spacing), height, spacing).astype(int), :] = shade
    if rng.random() < 0.5:
        lines[:, np.arange(rng.uniform(0, spacing), width, spacing).astype(int)] = shade
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (np.cos(angle) * xs + np.sin(angle) * ys) / max(height, width)
    light = 1.0 - rng.uniform(0.0, 0.25) * (ramp - ramp.min())
    return (np.minimum(gray, lines) * light).astype(np.uint8)


class TrainTransform:
    """Rendered PNG -> augmented model input (H, W) float32."""

    def __init__(self, aug: AugmentConfig, pre: PreprocessConfig, seed: int | None = None) -> None:
        self.aug, self.pre = aug, pre
        self.pixel = build_pixel_augment(aug) if aug.enabled else None
        self.seed = seed
        self.rng = random.Random(seed)
        self._pid = os.getpid()

    def __call__(self, image: Image.Image, dpi: float | None = None) -> np.ndarray:
        if os.getpid() != self._pid:  # a DataLoader worker: draw its own augmentations
            self._pid = os.getpid()
            self.rng = random.Random(None if self.seed is None else self.seed + self._pid)
        gray = np.asarray(image.convert("L"), dtype=np.uint8)
        clean = crop_to_ink(to_ink(Image.fromarray(gray)))  # a blank render raises here, before noise hides it
        if self.pixel is not None:
            try:
                return self._augment(gray, dpi)
            except InvalidInputError:  # the augmentation wiped the ink out: use the clean render
                pass
        return fit(clean, self.pre)

    def _augment(self, gray: np.ndarray, dpi: float | None) -> np.ndarray:
        rng = self.rng
        geometry, degrade = self.pixel
        gray = geometry(image=np.pad(gray, rng.randint(2, 12), constant_values=255))["image"]
        if rng.random() < self.aug.paper_p:
            gray = paper(gray, rng)
        if rng.random() < self.aug.low_contrast_p:  # faint print, grey or coloured page
            lo, hi = rng.uniform(0, 120), rng.uniform(170, 255)
            gray = (lo + gray.astype(np.float32) * (hi - lo) / 255).astype(np.uint8)
        gray = degrade(image=gray)["image"]
        if rng.random() < self.aug.binarize_p:
            gray = np.where(gray < rng.uniform(100, 200), 0, 255).astype(np.uint8)
        if rng.random() < self.aug.invert_p:  # dark-mode screenshot
            gray = 255 - gray
        ink = crop_to_ink(to_ink(Image.fromarray(gray)))
        scale = rng.uniform(*self.aug.dpi_range) / dpi if dpi else rng.uniform(*self.aug.scale_range)
        ink = resize(ink, scale)
        return fit(ink, self.pre)


def eval_transform(pre: PreprocessConfig) -> Callable[[Image.Image, float | None], np.ndarray]:
    """Validation: the inference preprocessing, no augmentation (dpi is ignored)."""
    def apply(image: Image.Image, dpi: float | None = None) -> np.ndarray:
        return preprocess(image, pre)
    return apply
