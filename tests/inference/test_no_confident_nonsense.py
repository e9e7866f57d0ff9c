"""The shipped model on inputs with too little ink to be a formula: it may guess, but never with
confidence, and it says why; real formulas around them are read without a warning."""

import numpy as np
import pytest

from mathlens import Recognizer
from mathlens.synth.render import RenderJob, render_batch

STROKES = {"a dash": [[(0, 0), (60, 0)]], "a dot": [[(5, 5)]], "two dashes": [[(0, 0), (60, 0)], [(0, 25), (60, 25)]]}


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer()


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    out = tmp_path_factory.mktemp("printed")
    return render_batch([RenderJob(k, t) for k, t in [("minus", "-"), ("eq", "="), ("dot", "."), ("ab", "a=b"),
                                                       ("sq", r"x^{2}+y^{2}=z^{2}")]], out, dpi=100)


@pytest.mark.texlive
@pytest.mark.parametrize("key", ["minus", "eq", "dot"])
def test_a_lone_printed_mark_is_never_read_with_confidence(recognizer, printed, key):
    pred = recognizer.recognize(printed[key])
    assert pred.confidence < 0.5 and pred.unsure, pred


@pytest.mark.parametrize("name", sorted(STROKES))
def test_a_lone_pen_mark_is_never_read_with_confidence(recognizer, name):
    pred = recognizer.recognize_strokes(STROKES[name])
    assert pred.confidence < 0.5 and pred.unsure, pred


def test_a_speck_of_noise_is_never_read_with_confidence(recognizer):
    pred = recognizer.recognize((np.random.default_rng(0).random((6, 6)) * 255).astype(np.uint8))
    assert pred.confidence < 0.5 and pred.unsure, pred


@pytest.mark.texlive
@pytest.mark.parametrize("key, latex", [("ab", "a=b"), ("sq", r"x^{2}+y^{2}=z^{2}")])
def test_real_formulas_come_without_a_warning(recognizer, printed, key, latex):
    pred = recognizer.recognize(printed[key])
    assert pred.latex == latex and pred.unsure is None and pred.confidence >= 0.5, pred
