"""InkML in both dialects, stroke lists, and malformed ink."""

import tarfile
from pathlib import Path

import numpy as np
import pytest

from mathlens.config import PreprocessConfig
from mathlens.inference.inkml import parse_inkml, render_strokes, strokes_from_lists
from mathlens.errors import InvalidInputError
from mathlens.inference.preprocess import preprocess

DATASETS = Path(__file__).parents[3] / "shared" / "datasets"


def test_crohme_dialect(fixtures):
    ink = parse_inkml(fixtures / "inkml" / "one_plus_one.crohme.inkml")
    assert ink.label == "1+1" and len(ink.strokes) == 4 and ink.strokes[0].shape == (3, 2)


def test_symbol_segmentation_points_at_the_strokes(fixtures):
    ink = parse_inkml(fixtures / "inkml" / "b_x_plus_2_eq_3.crohme.inkml")
    assert [(s.label, s.strokes) for s in ink.symbols] == [
        ("b", (0, 1)), ("x", (2, 3)), ("+", (4, 5)), ("2", (6,)), ("=", (7, 8)), ("3", (9,))]
    assert parse_inkml(fixtures / "inkml" / "one_plus_one.crohme.inkml").symbols == ()
    # An empty trace is dropped: the groups after it still point at the right strokes, a group on it goes.
    text = (fixtures / "inkml" / "b_x_plus_2_eq_3.crohme.inkml").read_text()
    ink = parse_inkml(text.replace("250 80, 270 70, 285 85, 250 140, 290 140", "").encode())
    assert [(s.label, s.strokes) for s in ink.symbols][-2:] == [("=", (6, 7)), ("3", (8,))]
    assert "2" not in [s.label for s in ink.symbols]


def test_mathwriting_dialect_prefers_the_normalized_label(fixtures):
    ink = parse_inkml(fixtures / "inkml" / "x_equals_0.mathwriting.inkml")
    assert ink.label == "x=0" and len(ink.strokes) == 5


def test_ink_is_drawn_at_printed_scale(fixtures):
    image = render_strokes(parse_inkml(fixtures / "inkml" / "one_plus_one.crohme.inkml").strokes)
    pixels = np.asarray(image)
    assert 12 <= image.height <= 40 and pixels.min() == 0 and pixels.max() == 255
    # The same ink written ten times larger gives the same picture size.
    strokes = parse_inkml(fixtures / "inkml" / "one_plus_one.crohme.inkml").strokes
    assert render_strokes([s * 10 for s in strokes]).size == image.size


def test_preprocess_accepts_inkml_paths_and_bytes(fixtures):
    path = fixtures / "inkml" / "x_equals_0.mathwriting.inkml"
    a = preprocess(path, PreprocessConfig())
    b = preprocess(path.read_bytes(), PreprocessConfig())
    assert a.shape == b.shape and a.max() > 0.5


@pytest.mark.parametrize("text,message", [
    ("", "empty"),
    ("<ink><trace>1 2, 3</trace>", "malformed"),
    ('<ink xmlns="http://www.w3.org/2003/InkML"></ink>', "no strokes"),
    ('<ink xmlns="http://www.w3.org/2003/InkML"><trace>1 2, a b</trace></ink>', "cannot read point"),
    ("<svg></svg>", "not InkML"),
])
def test_malformed_inkml_is_a_clear_error(text, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_inkml(text.encode())


def test_stroke_lists_are_validated():
    assert len(strokes_from_lists([[(0, 0), (10, 10)], [(5, 0)]])) == 2
    for bad in ([], [[]], [[(0, float("nan"))]], [["ab"]]):
        with pytest.raises(InvalidInputError):
            strokes_from_lists(bad)


@pytest.mark.skipif(not DATASETS.is_dir(), reason="shared datasets not beside the checkout")
def test_every_file_of_both_shared_dialects_parses():
    excerpt = sorted((DATASETS / "mathwriting_excerpt").rglob("*.inkml"))
    assert len(excerpt) == 11
    for path in excerpt:
        assert parse_inkml(path).label
    with tarfile.open(DATASETS / "crohme" / "test2014" / "inkml.tar.gz") as tar:
        members = [m for m in tar.getmembers() if m.name.endswith(".inkml")][:50]
        for member in members:
            ink = parse_inkml(tar.extractfile(member).read())
            assert ink.strokes and ink.label is not None
