"""Any picture of a formula -> the model's input: a float ink map, ink=1 on background=0.

Shared by training and inference (numpy + Pillow only), so the model always sees what it was
trained on: colours, transparency and dark mode are reduced to ink, the lines of a photographed
sheet are removed, the formula is cropped to its ink, shrunk if it is a high-resolution picture,
and padded.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from mathlens.config import PreprocessConfig
from mathlens.inference.inkml import Ink, ink_scale, looks_like_inkml, parse_inkml, render_strokes
from mathlens.errors import InvalidInputError, MathlensError

logger = logging.getLogger(__name__)

ImageInput = Union[str, Path, bytes, Image.Image, np.ndarray]
Judge = Callable[[np.ndarray], bool]  # a picture's first view -> read its other views too?

MAX_INPUT_PIXELS = 50_000_000  # a 7000x7000 screenshot; beyond that we refuse before decoding
# Ink is drawn 4x supersampled, so a drawing of N pixels briefly takes 16 N bytes: refuse ink that
# would draw larger than this (a 2000x2000 picture, far more than a long formula at printed size).
MAX_INK_PIXELS = 4_000_000
INK_MARGIN_PX = 4  # render_strokes' default margin
ORIENTATION = 0x0112  # the EXIF tag
INK_THRESHOLD = 0.25
STRONG_INK = 0.5  # the core of a stroke; anti-aliased edges and ruled lines are fainter
THIN_STROKES = 1.8  # px: screen renders measure 0.7-1.6, phone photos of handwriting 1.9-10


def load_image(source: ImageInput, max_pixels: int = MAX_INPUT_PIXELS) -> Image.Image:
    """Open a path, bytes, PIL image or array; raise InvalidInputError if unreadable.

    The size is checked from the header, before the pixels are decoded.
    """
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, np.ndarray):
        if source.ndim not in (2, 3) or source.size == 0:
            raise InvalidInputError(f"array of shape {source.shape} is not an image")
        arr = source if source.dtype == np.uint8 else np.clip(source * (255 if source.max() <= 1 else 1), 0, 255).astype(np.uint8)
        image = Image.fromarray(arr)
    else:
        try:
            image = Image.open(io.BytesIO(_read_bytes(source)))
        except UnidentifiedImageError:
            raise InvalidInputError("not a recognised image format") from None
        except Image.DecompressionBombError:  # Pillow's own guard, far above ours: say it our way
            raise InvalidInputError(f"image too large: more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels "
                                    f"(limit {max_pixels:,})") from None
        except (OSError, ValueError) as err:  # truncated or malformed header
            raise InvalidInputError(f"cannot read image: {err}") from None
    width, height = image.size
    if width * height > max_pixels:
        raise InvalidInputError(f"image too large: {width}x{height} pixels (limit {max_pixels:,})")
    if width == 0 or height == 0:
        raise InvalidInputError("image has no pixels")
    try:
        frame = next(ImageSequence.Iterator(image))  # GIF/TIFF: first frame
        frame.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise InvalidInputError(f"cannot decode image: {err}") from None
    # A phone stores a portrait photo sideways and says so in EXIF: turn it the way it is seen.
    return ImageOps.exif_transpose(frame) if frame.getexif().get(ORIENTATION, 1) != 1 else frame


def _read_bytes(source: str | Path | bytes) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise InvalidInputError(f"no such file: {path}")
        data = path.read_bytes()
    if not data:
        raise InvalidInputError("empty file")
    return data


def to_ink(image: Image.Image) -> np.ndarray:
    """Reduce any colour model to an ink map (H, W) float32 in [0, 1], ink=1."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3]
        if float(np.median(alpha)) < 0.5:  # transparent background: the opaque pixels are the ink
            return alpha
        luma = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        gray = luma * alpha + (1.0 - alpha)  # mostly opaque: composite over white
    else:
        gray = _gray(image)
    # The page is the median brightness, or darker where a shadow falls (lighter never: a white
    # margin around a grey box must not turn the box into ink).
    page = float(np.median(gray))
    if page >= 0.5:  # dark ink on a light page
        ink = 1.0 - gray / np.maximum(np.minimum(local_background(gray, np.max), page), 1e-3)
    else:  # dark mode, or white ink on black as in the CROHME bitmaps
        ink = gray - np.maximum(local_background(gray, np.min), page)
    peak = float(np.percentile(ink, 99.9))
    if peak <= 0.05:
        return np.zeros_like(gray)
    return suppress_faint_lines(np.clip(ink / peak, 0.0, 1.0))


def _gray(image: Image.Image) -> np.ndarray:
    """Brightness in [0, 1]. 16-bit, 32-bit and float pictures by their own range: convert("L")
    clips them, and a 16-bit scan becomes a white page."""
    if image.mode.startswith("I;16"):
        return np.asarray(image, dtype=np.float32) / 65535.0
    if image.mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float32)
        peak = float(values.max())
        top = 1.0 if image.mode == "F" and peak <= 1.0 else 255.0 if peak <= 255.0 else 65535.0 if peak <= 65535.0 else peak
        return np.clip(values / top, 0.0, 1.0)
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def suppress_faint_lines(ink: np.ndarray, reach: int = 3, quantile: float = 99.0) -> np.ndarray:
    """Remove ruled lines, grid and paper texture, so they neither widen the crop to the whole
    sheet nor reach the model.

    Such marks are fainter than pen strokes and lie away from them. So the floor is a high
    quantile of the ink away from stroke cores, and what is left away from them is dropped. Only
    for pictures whose strokes are thicker than lines (photos, scans): at screen resolution the
    strokes are as thin as lines, and whole symbols never reach a core, so those stay as they are.
    """
    step = max(1, int((ink.size / 1e6) ** 0.5))  # a million pixels tell as much as a whole photo
    if stroke_width(ink[::step]) < THIN_STROKES:
        return ink
    sample = ink[::step, ::step]
    sample_near = near_strokes(sample, reach)
    away = sample[~sample_near]
    floor = min(float(np.percentile(away, quantile)), STRONG_INK) if away.size else 0.0
    if floor < 0.05:  # a clean page
        return ink
    near = sample_near if step == 1 else near_strokes(ink, reach)
    return np.clip((ink - floor) / (1.0 - floor), 0.0, 1.0) * near


def local_background(gray: np.ndarray, pick: Callable[..., np.ndarray], cell: int = 8, reach: int = 3) -> np.ndarray:
    """The page's brightness near each pixel, so a shadow or a lamp's fall-off is not read as ink.

    `pick` is np.max for a light page (np.min for a dark one) over about 56 px: strokes are
    thinner than that, so bare page lies within reach of every pixel. An evenly lit page gives
    the page itself, so screenshots come out as before.
    """
    height, width = gray.shape
    rows, cols = -(-height // cell), -(-width // cell)
    padded = np.pad(gray, ((0, rows * cell - height), (0, cols * cell - width)), mode="edge")
    cells = pick(padded.reshape(rows, cell, cols, cell), axis=(1, 3))
    window = np.lib.stride_tricks.sliding_window_view(np.pad(cells, reach, mode="edge"), (2 * reach + 1,) * 2)
    spread = pick(window, axis=(2, 3))
    return np.repeat(np.repeat(spread, cell, axis=0), cell, axis=1)[:height, :width]


def near_strokes(ink: np.ndarray, reach: int) -> np.ndarray:
    """Mask of the pixels within `reach` of a stroke's core."""
    grown = ink > STRONG_INK
    for _ in range(reach):  # a square dilation, one pixel at a time
        grown[1:] |= grown[:-1].copy()
        grown[:-1] |= grown[1:].copy()
        grown[:, 1:] |= grown[:, :-1].copy()
        grown[:, :-1] |= grown[:, 1:].copy()
    return grown


def crop_to_ink(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray:
    rows = np.flatnonzero((ink > threshold).any(axis=1))
    cols = np.flatnonzero((ink > threshold).any(axis=0))
    if rows.size == 0:
        raise InvalidInputError("blank image: no formula found")
    return ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]


def resize(ink: np.ndarray, scale: float) -> np.ndarray:
    """Resize a float map; box filter when shrinking keeps thin strokes."""
    height, width = ink.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(size, resample), dtype=np.float32)


# Stroke width of 12pt printed math grows with resolution: about 0.3 + 0.011 * dpi pixels
# (measured on TeX renders in Computer Modern, Times and sans at 70-300 dpi). Coarse, but
# enough to tell a 300 dpi scan from a 90 dpi screenshot; im2latex-100k measures 1.2-2.05.
_STROKE_OFFSET, _STROKE_PER_DPI = 0.3, 0.011


def stroke_width(ink: np.ndarray) -> float:
    """Median ink mass of the horizontal ink runs (with their anti-aliased edges), in pixels.

    The median ignores the few long runs of fraction bars and minus signs.
    """
    solid = np.pad(ink > 0.5, ((0, 0), (2, 2)))
    edges = np.diff(solid.astype(np.int8), axis=1)  # +1 where a run starts, -1 after it ends
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    if starts.size == 0:
        return 0.0
    cumulative = np.cumsum(np.pad(ink, ((0, 0), (2, 2))), axis=1)  # run mass by differences
    masses = cumulative[rows, ends] - cumulative[rows, starts - 2]
    return float(np.median(masses))


def estimate_dpi(ink: np.ndarray) -> float:
    """Resolution the picture would have if it were 12pt type, from its stroke width."""
    return max(1.0, (stroke_width(ink) - _STROKE_OFFSET) / _STROKE_PER_DPI)


def component_heights(mask: np.ndarray) -> np.ndarray:
    """Heights of the 8-connected components of a boolean mask.

    The nodes are the row runs; runs in adjacent rows that touch are joined by label propagation
    with pointer jumping, all in numpy (inference needs no scipy or OpenCV).
    """
    height, width = mask.shape
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # one past each run's last pixel
    if rows.size == 0:
        return np.zeros(0, int)
    line = width + 2
    # A run [start, end) in row r touches a run [s, e) of row r-1 when e >= start and s <= end.
    first = np.searchsorted(rows * line + ends, (rows - 1) * line + starts, side="left")
    last = np.searchsorted(rows * line + starts, (rows - 1) * line + ends, side="right")
    count = np.maximum(last - first, 0)
    a = np.repeat(np.arange(rows.size), count)
    b = np.repeat(first, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    label = np.arange(rows.size)
    while True:
        joined = label.copy()
        np.minimum.at(joined, a, label[b])
        np.minimum.at(joined, b, label[a])
        joined = joined[joined]
        if np.array_equal(joined, label):
            break
        label = joined
    label = np.unique(label, return_inverse=True)[1]
    n = int(label.max()) + 1
    top, bottom = np.full(n, height), np.zeros(n, int)
    np.minimum.at(top, label, rows)
    np.maximum.at(bottom, label, rows)
    return bottom - top + 1


def glyph_size(ink: np.ndarray) -> float:
    """Median height of the picture's symbols in pixels.

    Connected pieces of strong ink stand for symbols. Dots, minus signs and fraction bars say
    little about the writing size, so pieces lower than a quarter of the tall ones (the 90th
    percentile) do not count; nor do widths, or a long fraction bar would stand for the type size.
    """
    heights = component_heights(ink > STRONG_INK)
    if heights.size == 0:
        return 0.0
    return float(np.median(heights[heights >= 0.25 * np.percentile(heights, 90)]))


def normalize_scale(ink: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """Shrink high-resolution pictures to `target_dpi`; enlarge low-resolution ones towards
    `min_dpi`, at most `max_enlarge`×; then shrink symbols larger than `max_glyph_px`.

    The stroke width misjudges a phone photo of handwriting (a felt pen on a small sheet has thin
    strokes for its size), so the symbols' own size bounds the result.
    """
    if not cfg.auto_scale:
        return ink
    dpi = estimate_dpi(ink)
    if dpi > cfg.max_dpi:
        ink = resize(ink, cfg.target_dpi / dpi)
    elif dpi < cfg.min_dpi:
        ink = resize(ink, min(cfg.min_dpi / dpi, cfg.max_enlarge))
    if cfg.max_glyph_px > 0:
        size = glyph_size(ink)
        if size > cfg.max_glyph_px:
            ink = resize(ink, cfg.max_glyph_px / size)
    return ink


def fit(ink: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """Cropped ink -> padded model input (H, W), shrunk when it exceeds the configured limits."""
    height, width = ink.shape
    inner_h, inner_w = (limit - 2 * cfg.margin - cfg.trailing_pad for limit in (cfg.max_height, cfg.max_width))
    scale = min(1.0, cfg.max_content_height / height, inner_h / height, inner_w / width)
    if scale < 1.0:
        ink = resize(ink, scale)
        height, width = ink.shape
    m = cfg.pad_multiple
    box_h = -(-(height + 2 * cfg.margin) // m) * m
    box_w = -(-(width + 2 * cfg.margin) // m) * m
    out = np.zeros((box_h + cfg.trailing_pad, box_w + cfg.trailing_pad), dtype=np.float32)
    top, left = (box_h - height) // 2, cfg.margin
    out[top: top + height, left: left + width] = ink
    return out


def pad_batch(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """List of (H, W) inputs -> images (B, 1, Hmax, Wmax) and their mask, padded bottom/right."""
    H = max(a.shape[0] for a in arrays)
    W = max(a.shape[1] for a in arrays)
    images = np.zeros((len(arrays), 1, H, W), dtype=np.float32)
    mask = np.zeros_like(images)
    for i, a in enumerate(arrays):
        images[i, 0, : a.shape[0], : a.shape[1]] = a
        mask[i, 0, : a.shape[0], : a.shape[1]] = 1.0
    return images, mask


def preprocess(source: ImageInput | Ink, cfg: PreprocessConfig) -> np.ndarray:
    """The one entry point: any input -> (H, W) float32 model input."""
    return preprocess_views(source, cfg, views=False)[0]


def preprocess_views(source: ImageInput | Ink, cfg: PreprocessConfig, views: bool = True,
                     max_pixels: int | None = None, judge: Judge | None = None) -> list[np.ndarray]:
    """The input at the config's sizes for its kind (`ink_views`, `picture_views`), to be read once each.

    Ink is drawn again at each size with the same pen, then normalized like any picture, which
    brings the symbols back near one size: the views differ in how bold the pen is for the
    writing. A picture is resized after its scale is normalized; with a `judge`
    (`Predictor.judge`) it is read at its first size only, or at `handwriting_views` when the
    judge takes that for handwriting. `views=False` makes only `preprocess`'s. `max_pixels` can
    only lower the limits (MAX_INPUT_PIXELS, MAX_INK_PIXELS).
    Raises only InvalidInputError: image decoders fail on hostile input in more ways than they
    document (struct errors, index errors, ...), and each means a bad input.
    """
    limit = MAX_INPUT_PIXELS if max_pixels is None else min(max_pixels, MAX_INPUT_PIXELS)
    try:
        return _views(source, cfg, views, limit, judge)
    except MathlensError:
        raise
    except Exception as err:
        logger.warning("image decoder failed: %r", err)
        raise InvalidInputError(f"cannot decode image: {err}") from None


def _views(source: ImageInput | Ink, cfg: PreprocessConfig, views: bool, max_pixels: int,
           judge: Judge | None) -> list[np.ndarray]:
    named_ink = isinstance(source, (str, Path)) and Path(source).suffix.lower() == ".inkml"
    if isinstance(source, (str, Path)):
        source = _read_bytes(source)
    if isinstance(source, bytes) and (named_ink or looks_like_inkml(source)):  # a file named .inkml is judged as ink
        source = parse_inkml(source)
    if isinstance(source, Ink):
        scales = view_scales(cfg.ink_views, views)
        unit = ink_scale(source.strokes)
        check_ink_size(source.strokes, unit * max(scales), min(max_pixels, MAX_INK_PIXELS))
        return [fit(_normalized(render_strokes(source.strokes, unit * f), cfg), cfg) for f in scales]
    ink = _normalized(load_image(source, max_pixels), cfg)
    scales = view_scales(cfg.picture_views, views)
    sized = [fit(ink if scales[0] == 1 else resize(ink, scales[0]), cfg)]
    if len(scales) > 1 and judge is not None:
        if not judge(sized[0]):
            return sized  # taken for print: one size reads it as well
        scales = cfg.handwriting_views
    return sized + [fit(ink if f == 1 else resize(ink, f), cfg) for f in scales[1:]]


def check_ink_size(strokes: list[np.ndarray], scale: float, max_pixels: int) -> None:
    """Refuse ink that would draw a picture over `max_pixels` at `scale`, before drawing it."""
    with np.errstate(over="ignore", invalid="ignore"):
        extent = np.ptp(np.concatenate(strokes), axis=0) * scale
    if not np.isfinite(extent).all():
        raise InvalidInputError("ink coordinates out of range")
    width, height = (int(e) + 2 * INK_MARGIN_PX + 1 for e in extent)
    if width * height > max_pixels:
        raise InvalidInputError(f"ink too large: it would draw {width}x{height} pixels (limit {max_pixels:,}); "
                                f"are the strokes much smaller than the space between them?")


def view_scales(configured: Sequence[float], views: bool) -> Sequence[float]:
    """The sizes an input is read at: the configured ones, or only 1.0 when reading once."""
    return configured if views and configured else (1.0,)


def _normalized(image: Image.Image, cfg: PreprocessConfig) -> np.ndarray:
    return normalize_scale(crop_to_ink(to_ink(image)), cfg)
