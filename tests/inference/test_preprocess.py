import io

import numpy as np
import pytest
from PIL import Image

from mathlens.config import PreprocessConfig
from mathlens.errors import InvalidInputError
from mathlens.inference.preprocess import preprocess

CFG = PreprocessConfig()


def _formula_like(width=120, height=30) -> Image.Image:
    """Thin strokes like 12pt type at ~100 dpi: a bar and a few stems."""
    image = Image.new("L", (width, height), 255)
    image.paste(0, (10, 14, width - 10, 15))
    for x in range(20, width - 20, 9):
        image.paste(0, (x, 5, x + 1, 25))
    return image


def test_output_is_cropped_padded_ink_map():
    out = preprocess(_formula_like(), CFG)
    assert out.dtype == np.float32 and out.shape[0] % 8 == 0 and out.shape[1] % 8 == 0
    assert out.max() == pytest.approx(1.0, abs=0.05) and out[0].max() == 0 and out[:, 0].max() == 0


def test_the_ink_stays_clear_of_the_bottom_and_right_edges():
    out = preprocess(_formula_like(), CFG)
    rows, cols = np.nonzero(out)
    assert out.shape[0] - 1 - rows.max() >= CFG.trailing_pad and out.shape[1] - 1 - cols.max() >= CFG.trailing_pad
    tight = preprocess(_formula_like(), PreprocessConfig(trailing_pad=0))
    assert out.shape == (tight.shape[0] + CFG.trailing_pad, tight.shape[1] + CFG.trailing_pad)
    assert np.array_equal(out[: tight.shape[0], : tight.shape[1]], tight)


@pytest.mark.parametrize("variant", ["dark_mode", "colour", "transparent", "rgba_opaque", "low_contrast"])
def test_backgrounds_and_polarity_give_the_same_ink(variant):
    base = _formula_like()
    reference = preprocess(base, CFG)
    gray = np.asarray(base)
    if variant == "dark_mode":
        image = Image.fromarray(255 - gray)
    elif variant == "colour":
        rgb = np.stack([np.where(gray < 128, 200, 250), np.where(gray < 128, 30, 240), np.where(gray < 128, 30, 200)], -1)
        image = Image.fromarray(rgb.astype(np.uint8))
    elif variant == "transparent":
        rgba = np.zeros((*gray.shape, 4), np.uint8)
        rgba[..., 3] = 255 - gray  # black ink on a transparent page
        image = Image.fromarray(rgba)
    elif variant == "rgba_opaque":
        image = base.convert("RGBA")
    else:
        image = Image.fromarray((110 + gray * 0.3).astype(np.uint8))
    out = preprocess(image, CFG)
    assert out.shape == reference.shape
    assert np.abs(out - reference).mean() < 0.05


@pytest.mark.parametrize("dark_mode", [False, True])
def test_uneven_light_is_not_read_as_ink(dark_mode):
    """A photo darkens towards one side: the crop must still find just the formula."""
    page = np.full((200, 400), 255.0)
    page[85:115, 140:260] = np.asarray(_formula_like())
    shadow = np.linspace(1.0, 0.55, 400)[None, :]  # the lamp is on the left
    photo = page * shadow if not dark_mode else 255 - (255 - page) * shadow
    out = preprocess(Image.fromarray(photo.astype(np.uint8)), CFG)
    assert out.shape == preprocess(_formula_like(), CFG).shape


@pytest.mark.parametrize("kind", ["grid", "ruled"])
def test_lines_of_the_paper_are_not_read_as_ink(kind):
    """A photo of a formula on squared or ruled paper: the crop finds the formula, not the sheet,
    and the lines around it are gone."""
    pen = _formula_like().resize((360, 90), Image.Resampling.NEAREST)  # 3 px strokes: photo resolution
    page = np.full((600, 900), 235.0)
    page[::40, :] = 160  # blue-grey lines, a third as dark as the pen
    if kind == "grid":
        page[:, ::40] = 160
    page *= np.linspace(1.0, 0.8, 900)[None, :]  # and the light falls off to one side
    page[255:345, 270:630] = np.minimum(page[255:345, 270:630], np.asarray(pen) * 0.9)
    out = preprocess(Image.fromarray(page.astype(np.uint8)), CFG)
    reference = preprocess(pen, CFG)
    assert out.shape == reference.shape
    assert np.abs(out - reference).mean() < 0.05


def test_thin_printed_strokes_are_left_as_they_are():
    """At screen resolution whole symbols are fainter than a stroke core: nothing may be removed."""
    image = _formula_like()
    faint = np.asarray(image, dtype=np.float32)
    faint[:, 60:] = 255 - (255 - faint[:, 60:]) * 0.4  # the right half only anti-aliased grey
    out = preprocess(Image.fromarray(faint.astype(np.uint8)), CFG)
    assert out.shape == preprocess(image, CFG).shape
    assert out[:, out.shape[1] // 2:].max() > 0.3


def test_a_white_margin_around_a_grey_box_is_not_ink():
    page = np.full((120, 300), 255.0)
    page[20:100, 30:270] = 170  # a grey box, as in a screenshot of a highlighted formula
    page[45:75, 90:210] = np.asarray(_formula_like()) * (170 / 255)
    out = preprocess(Image.fromarray(page.astype(np.uint8)), CFG)
    assert out.shape == preprocess(_formula_like(), CFG).shape


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF"])
def test_common_formats_decode(fmt, tmp_path):
    path = tmp_path / f"f.{fmt.lower()}"
    _formula_like().convert("RGB").save(path, fmt)
    assert preprocess(path, CFG).max() > 0.5


def test_large_images_are_shrunk_to_the_limits():
    out = preprocess(_formula_like(3000, 600), CFG)
    assert out.shape[0] <= CFG.max_height and out.shape[1] <= CFG.max_width


@pytest.mark.parametrize("data,message", [
    (b"", "empty"),
    (b"just some text, not a picture", "not a recognised image"),
])
def test_bad_bytes_raise_clear_errors(data, message):
    with pytest.raises(InvalidInputError, match=message):
        preprocess(data, CFG)


def test_a_20000_square_image_is_refused_in_our_words(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("1", (20000, 20000), 1).save(path)  # 400 megapixels, a few kB on disk: past Pillow's own guard
    with pytest.raises(InvalidInputError, match=r"image too large: more than [\d,]+ pixels \(limit 50,000,000\)"):
        preprocess(path, CFG)


def test_a_photo_is_read_the_way_its_exif_says_it_is_seen(tmp_path):
    upright = _formula_like(120, 30).convert("RGB")
    sideways = upright.rotate(90, expand=True)  # as the sensor stored it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to view"
    sideways.save(tmp_path / "photo.jpg", exif=exif.tobytes(), quality=95)
    upright.save(tmp_path / "upright.jpg", quality=95)
    read = preprocess(tmp_path / "photo.jpg", CFG)
    assert read.shape == preprocess(tmp_path / "upright.jpg", CFG).shape  # wide, not tall
    assert read.shape[1] > read.shape[0]


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_16_bit_and_float_pictures_read_like_8_bit(mode):
    eight = np.asarray(_formula_like(), dtype=np.float32)
    scale = {"I;16": 257.0, "I": 257.0, "F": 1 / 255}[mode]
    values = eight * scale
    deep = Image.fromarray(values.astype(np.uint16 if mode == "I;16" else np.int32 if mode == "I" else np.float32))
    assert deep.mode == mode
    np.testing.assert_allclose(preprocess(deep, CFG), preprocess(_formula_like(), CFG), atol=0.02)


def test_truncated_png_and_blank_image(tmp_path):
    buf = io.BytesIO()
    _formula_like().save(buf, "PNG")
    with pytest.raises(InvalidInputError):
        preprocess(buf.getvalue()[: len(buf.getvalue()) // 2], CFG)
    with pytest.raises(InvalidInputError, match="blank"):
        preprocess(Image.new("RGB", (200, 50), "white"), CFG)
    with pytest.raises(InvalidInputError, match="no such file"):
        preprocess(tmp_path / "missing.png", CFG)


@pytest.mark.texlive
def test_high_resolution_renders_are_brought_to_the_training_scale(tmp_path):
    from mathlens.synth.render import RenderJob, render_batch

    job = [RenderJob("q", r"x=\frac{-b\pm\sqrt{b^{2}-4ac}}{2a}")]
    target = round(CFG.target_dpi)  # where high-resolution pictures are shrunk to
    base = preprocess(render_batch(job, tmp_path / str(target), dpi=target)["q"], CFG)
    for dpi in (200, 300):
        big = preprocess(render_batch(job, tmp_path / str(dpi), dpi=dpi)["q"], CFG)
        assert abs(big.shape[1] - base.shape[1]) / base.shape[1] < 0.3, dpi


@pytest.mark.texlive
def test_low_resolution_renders_are_enlarged_towards_min_dpi(tmp_path):
    from mathlens.synth.render import RenderJob, render_batch
    from mathlens.inference.preprocess import crop_to_ink, estimate_dpi, load_image, to_ink

    job = [RenderJob("q", r"x=\frac{-b\pm\sqrt{b^{2}-4ac}}{2a}")]
    native = PreprocessConfig(min_dpi=0.0)

    def ink_width(out: np.ndarray) -> int:
        cols = np.flatnonzero(out.max(axis=0) > 0.1)
        return int(cols[-1] - cols[0] + 1)

    for dpi in (70, 140, 170):
        render = render_batch(job, tmp_path / str(dpi), dpi=dpi)["q"]
        estimate = estimate_dpi(crop_to_ink(to_ink(load_image(render))))
        expected = min(max(CFG.min_dpi / estimate, 1.0), CFG.max_enlarge)  # 70: capped, 170: left alone
        ratio = ink_width(preprocess(render, CFG)) / ink_width(preprocess(render, native))
        assert ratio == pytest.approx(expected, abs=0.04), (dpi, estimate)


def test_component_heights_counts_8_connected_pieces():
    from mathlens.inference.preprocess import component_heights

    mask = np.zeros((12, 20), bool)
    mask[1:6, 2] = True  # a stem, 5 tall
    mask[6, 3] = True  # touching it only diagonally: the same piece, now 6 tall
    mask[2:4, 10:16] = True  # a block 2 tall
    mask[9, 18] = True  # a dot
    mask[9:12, 0] = True  # apart from the stem by one empty row: a piece of its own
    assert sorted(component_heights(mask).tolist()) == [1, 2, 3, 6]
    assert component_heights(np.zeros((4, 4), bool)).size == 0


def test_component_heights_joins_a_piece_that_winds_back():
    from mathlens.inference.preprocess import component_heights

    mask = np.zeros((9, 9), bool)  # a spiral: labels must travel through many runs
    mask[0, :] = mask[:, 8] = mask[8, :] = mask[2:, 0] = mask[2, :7] = mask[2:7, 6] = mask[6, 2:7] = True
    assert component_heights(mask).tolist() == [9]


def test_large_handwriting_is_shrunk_to_max_glyph_px():
    """Thick strokes on large symbols, as in a phone photo of a felt pen: the stroke-width
    estimate leaves them alone, the glyph cap brings the symbols down to max_glyph_px."""
    from mathlens.inference.preprocess import crop_to_ink, glyph_size, normalize_scale

    image = Image.new("L", (400, 120), 255)
    for x in range(20, 380, 60):  # six "symbols" 80 px tall, strokes 2 px wide (read as ~155 dpi)
        image.paste(0, (x, 20, x + 2, 100))
        image.paste(0, (x, 20, x + 30, 22))
    ink = crop_to_ink(1.0 - np.asarray(image, np.float32) / 255)
    assert glyph_size(ink) == pytest.approx(80, abs=1)
    capped = normalize_scale(ink, PreprocessConfig(min_dpi=0.0, max_glyph_px=20.0))
    assert capped.shape[0] == pytest.approx(ink.shape[0] * 20 / 80, abs=1)
    assert normalize_scale(ink, PreprocessConfig(min_dpi=0.0, max_glyph_px=0.0)).shape == ink.shape  # 0: off


def _ink_width(array: np.ndarray) -> int:
    cols = np.flatnonzero(array.max(axis=0) > 0.25)
    return int(cols[-1] - cols[0] + 1)


def test_ink_is_drawn_again_at_each_view_size_with_the_same_pen(fixtures):
    """Scale normalization brings the symbols back near one size, so what differs between the
    views is how bold the pen is for the writing: boldest in the smallest drawing."""
    from mathlens.inference.preprocess import glyph_size, preprocess_views, stroke_width

    data = (fixtures / "inkml" / "b_x_plus_2_eq_3.crohme.inkml").read_bytes()
    cfg = PreprocessConfig(ink_views=(1.0, 0.8, 1.25))
    views = preprocess_views(data, cfg)
    assert len(views) == 3 and np.array_equal(views[0], preprocess(data, cfg))
    boldness = [stroke_width(v) / glyph_size(v) for v in views]
    assert boldness[1] > boldness[0] * 1.1 and boldness[2] < boldness[0] / 1.1


def test_a_picture_is_resized_for_each_view_and_single_view_makes_one(fixtures):
    from mathlens.inference.preprocess import preprocess_views

    path = fixtures / "quadratic.png"
    cfg = PreprocessConfig(picture_views=(1.0, 1.5))
    one, bigger = preprocess_views(path, cfg)
    assert np.array_equal(one, preprocess(path, cfg))
    assert _ink_width(bigger) / _ink_width(one) == pytest.approx(1.5, rel=0.05)
    assert len(preprocess_views(path, cfg, views=False)) == 1
    assert len(preprocess_views(path, PreprocessConfig(picture_views=()))) == 1


def test_views_of_bad_input_raise_the_same_clear_errors(fixtures):
    from mathlens.inference.preprocess import preprocess_views

    with pytest.raises(InvalidInputError, match="malformed InkML"):
        preprocess_views(b"<ink><trace>1 2, 3", CFG)
    with pytest.raises(InvalidInputError, match="not a recognised image format"):
        preprocess_views(b"GIF89a not really", CFG)


def test_a_file_named_inkml_is_judged_as_ink(tmp_path):
    (tmp_path / "note.inkml").write_text("hello, not ink")
    with pytest.raises(InvalidInputError, match="not InkML"):
        preprocess(tmp_path / "note.inkml", CFG)
