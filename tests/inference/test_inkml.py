"""InkML in both dialects, stroke lists, and malformed ink."""

import tarfile
from pathlib import Path

import numpy as np
import pytest

from mathlens.config import PreprocessConfig
from mathlens.inference.inkml import looks_like_inkml, parse_inkml, render_strokes, strokes_from_lists
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
    ("<svg></svg>", "not InkML: the root element is <svg>"),
    ("<!DOCTYPE html><html><body><p>a page</body></html>", "not InkML: markup that is not well-formed XML"),
    ('<ink><traceFormat><channel name="T"/><channel name="F"/></traceFormat><trace>1 2</trace></ink>',
     "no X and Y channels"),
    ("<ink><trace>1 2, 3e400 4</trace></ink>", "trace 0: coordinate inf out of range"),
    ("<ink><trace>1 2, 2000000 4</trace></ink>", "trace 0: coordinate 2e[+]06 out of range"),
])
def test_malformed_inkml_is_a_clear_error(text, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_inkml(text.encode())


def test_xml_that_is_not_inkml_is_named_not_taken_for_a_broken_image(fixtures):
    """An SVG saved as .inkml goes to the InkML reader, which says what it is; images do not."""
    svg = fixtures / "inkml" / "drawing.svg.inkml"
    assert looks_like_inkml(svg.read_bytes()) and looks_like_inkml(b"\xef\xbb\xbf <?xml version='1.0'?><ink/>")
    assert not looks_like_inkml((fixtures / "quadratic.png").read_bytes()) and not looks_like_inkml(b"<3 maths")
    with pytest.raises(InvalidInputError, match="not InkML: the root element is <svg>"):
        preprocess(svg, PreprocessConfig())


def test_coordinates_beyond_a_million_are_refused(fixtures):
    """1+1 written at 1e300: the ink would draw (its shape is fine) but no device writes there."""
    with pytest.raises(InvalidInputError, match="trace 0: coordinate 1e[+]300 out of range"):
        parse_inkml(fixtures / "inkml" / "huge_coordinates.crohme.inkml")
    text = (fixtures / "inkml" / "one_plus_one.crohme.inkml").read_text()
    assert parse_inkml(text.replace("170 130", "-999999 130").encode()).strokes[1][1, 0] == -999999


def test_x_and_y_come_from_the_declared_channels(fixtures):
    """CROHME and MathWriting put time (or force) after x and y; a file may declare another order."""
    assert parse_inkml(fixtures / "inkml" / "x_equals_0.mathwriting.inkml").strokes[0].tolist() == [[100, 100],
                                                                                                   [130, 140]]
    reordered = """<ink xmlns="http://www.w3.org/2003/InkML">
      <traceFormat><channel name="T"/><channel name="Y"/><channel name="X"/></traceFormat>
      <trace>0 120 100, 10 100 112, 20 160 112</trace><trace>30 130 140, 40 130 170</trace></ink>"""
    ink = parse_inkml(reordered.encode())
    assert [s.tolist() for s in ink.strokes] == [[[100, 120], [112, 100], [112, 160]], [[140, 130], [170, 130]]]
    with pytest.raises(InvalidInputError, match="cannot read point '0 120'"):
        parse_inkml(reordered.replace("0 120 100", "0 120").encode())  # no X in this point


def test_stroke_lists_are_validated():
    assert len(strokes_from_lists([[(0, 0), (10, 10)], [(5, 0)]])) == 2
    assert strokes_from_lists([np.array([[1, 2], [3, 4]])])[0].tolist() == [[1, 2], [3, 4]]
    for bad, message in [([], "no strokes"), ([[]], "stroke 0 has no points"), ("xy", "stroke 0 is not a list"),
                         ([[(0, float("nan"))]], "coordinate nan out of range"), ([["ab"]], "point 0: ab is not"),
                         ([[(0, 0)], [(0, 0), (1, 2, 3)]], r"stroke 1, point 1: \(1, 2, 3\) is not \[x, y\]"),
                         ([[(0, 0, 5), (10, 10, 5)]], "point 0"), ([[(1,)]], "point 0"), ([[["1", "2"]]], "point 0"),
                         ([[(True, False)]], "point 0"),
                         ([[(0, 0), (1e300, 1e300)]], "coordinate 1e[+]300 out of range"),
                         ([[(0, 0), (0, -float("inf"))]], "coordinate -inf out of range")]:
        with pytest.raises(InvalidInputError, match=message):
            strokes_from_lists(bad)


def test_the_api_refuses_3d_points_instead_of_reading_them():
    """Points of (x, y, z) used to lose z and come back as a formula; now the caller is told."""
    from mathlens import Recognizer

    with pytest.raises(InvalidInputError, match=r"stroke 0, point 0: \[0, 0, 5\] is not \[x, y\], two numbers"):
        Recognizer().recognize_strokes([[[0, 0, 5], [10, 10, 5]], [[0, 10, 1], [10, 0, 1]]])


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
