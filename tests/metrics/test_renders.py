"""The output compiles: the shipped model's readings of real validation inputs, typeset by TeX Live
and rendered by KaTeX (the web page's own copy)."""

import pytest

from mathlens.metrics.evaluate import load_samples
from mathlens.metrics.renders import katex_errors, tex_failures

pytestmark = pytest.mark.texlive


def test_the_checks_can_fail():
    formulas = [r"\frac{a}{b}", r"a&=b\\&=c", r"\frac{a}{", r"\mathscr{L}+\boldsymbol{x}"]
    assert tex_failures(formulas) == [False, True, True, False]
    assert [e is not None for e in katex_errors(formulas)] == [False, True, True, False]


@pytest.mark.slow
def test_every_reading_of_a_validation_sample_renders(datasets):
    from mathlens import Recognizer

    samples = load_samples(datasets / "im2latex100k" / "val", 24) + load_samples(datasets / "crohme" / "test2014", 16)
    readings = [p.latex for p in Recognizer(beam_size=1, views=False).recognize_batch([s.image_path for s in samples])]
    readings.append(Recognizer().recognize_strokes([[(0, 0), (40, 0)], [(0, 20), (40, 20)]]).latex)  # nonsense too
    assert not any(tex_failures(readings)), readings
    assert katex_errors(readings) == [None] * len(readings), readings
