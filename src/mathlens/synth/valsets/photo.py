"""CROHME 2014 ink as phone photos of handwriting on paper: an offline set no training image resembles.

There is no public photo set with CROHME-convention labels, so this one is simulated, with a
generator written apart from the training augmentation (`data/transforms.py`): large pen strokes
in blue or black ink, tinted paper with ruled lines, a grid or a margin, a cast shadow, a
perspective tilt, lens blur, sensor noise and JPEG, in colour. The labels are the paper
convention's captions, as for the bitmaps, so its numbers compare with theirs.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from mathlens.inference.inkml import ink_scale, parse_inkml, render_strokes
from mathlens.metrics.evaluate import load_samples

INKS = ((20, 40, 140), (25, 25, 30), (40, 40, 90), (10, 60, 120))  # blue, black, navy, ballpoint


def paper_sheet(height: int, width: int, rng: random.Random) -> np.ndarray:
    """Tinted paper with faint fibre texture and ruled lines, a grid, or nothing; (H, W, 3) float."""
    tint = np.array([rng.uniform(225, 250), rng.uniform(220, 248), rng.uniform(200, 240)])
    sheet = np.ones((height, width, 3)) * tint
    texture = np.random.default_rng(rng.randrange(2**32)).normal(0, 1, (height // 8 + 1, width // 8 + 1))
    texture = np.asarray(Image.fromarray(texture.astype(np.float32)).resize((width, height), Image.Resampling.BICUBIC))
    sheet += texture[..., None] * rng.uniform(1, 4)
    kind, spacing = rng.choice(("ruled", "grid", "plain")), rng.uniform(25, 60)
    line = np.array([150, 180, 215]) if rng.random() < 0.7 else np.array([170, 170, 170])
    if kind in ("ruled", "grid"):
        for y in np.arange(rng.uniform(0, spacing), height, spacing).astype(int):
            sheet[y] = sheet[y] * 0.4 + line * 0.6
    if kind == "grid":
        for x in np.arange(rng.uniform(0, spacing), width, spacing).astype(int):
            sheet[:, x] = sheet[:, x] * 0.4 + line * 0.6
    if kind == "ruled" and rng.random() < 0.3:  # the red margin of a notebook page
        x = int(rng.uniform(0.02, 0.1) * width)
        sheet[:, x: x + 2] = [220, 120, 120]
    return sheet


def lighting(height: int, width: int, rng: random.Random) -> np.ndarray:
    """Brightness falling off towards the corners, and a soft shadow of a hand or a phone."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx = rng.uniform(0.2, 0.8) * height, rng.uniform(0.2, 0.8) * width
    radius = np.hypot((ys - cy) / height, (xs - cx) / width)
    light = 1.0 - rng.uniform(0.05, 0.3) * radius
    if rng.random() < 0.6:
        angle = rng.uniform(0, 2 * np.pi)
        side = (np.cos(angle) * (xs - width / 2) + np.sin(angle) * (ys - height / 2)) / max(height, width)
        edge = rng.uniform(-0.3, 0.3)
        light *= 1.0 - rng.uniform(0.15, 0.4) / (1 + np.exp(-(side - edge) * rng.uniform(8, 30)))
    return light[..., None]


def tilt(image: Image.Image, rng: random.Random) -> Image.Image:
    """A small rotation and perspective: the phone is never quite parallel to the page."""
    corner = image.getpixel((0, 0))
    image = image.rotate(rng.uniform(-4, 4), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=corner)
    w, h = image.size
    d = lambda: rng.uniform(0, 0.04)  # noqa: E731 - corner offsets as a fraction of the size
    quad = (d() * w, d() * h, d() * w, (1 - d()) * h, (1 - d()) * w, (1 - d()) * h, (1 - d()) * w, d() * h)
    return image.transform((w, h), Image.Transform.QUAD, quad, resample=Image.Resampling.BICUBIC)


def photograph(ink_path: Path, rng: random.Random) -> Image.Image:
    strokes = parse_inkml(ink_path).strokes
    scale = ink_scale(strokes) * rng.uniform(2.0, 3.5)  # a phone sees a symbol 30-50 px tall
    mask = 1.0 - np.asarray(render_strokes(strokes, scale, width_px=rng.uniform(2.0, 4.0), margin_px=0),
                            np.float32) / 255
    pad = [int(rng.uniform(0.15, 0.5) * max(mask.shape)) for _ in range(4)]
    mask = np.pad(mask, ((pad[0], pad[1]), (pad[2], pad[3])))
    height, width = mask.shape
    ink = np.array(rng.choice(INKS), np.float32) * rng.uniform(0.8, 1.2)
    opacity = rng.uniform(0.75, 0.95)
    page = paper_sheet(height, width, rng)
    page = page * (1 - opacity * mask[..., None]) + ink * opacity * mask[..., None]
    page *= lighting(height, width, rng)
    photo = tilt(Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)), rng)
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.2)))
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(2, 7), (photo.height, photo.width, 3))
    noisy = np.asarray(photo, np.float32) + noise
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def photo_set(ink_set: Path, out: Path, seed: int = 0) -> Path:
    """Photos of the ink set's expressions (`crohme.inkml_2014`), captioned as the bitmaps are."""
    (out / "img").mkdir(parents=True)
    rng = random.Random(seed)
    captions = []
    for sample in load_samples(ink_set):  # names as in the bitmaps' caption.txt: no folder, no extension
        stem = sample.image_path.stem
        photograph(sample.image_path, rng).save(out / "img" / f"{stem}.jpg", quality=rng.randint(60, 90))
        captions.append(f"{stem}\t{sample.reference}\n")
    (out / "caption.txt").write_text("".join(captions), encoding="utf-8")
    return out
