"""The calibrated confidence and the unsure flag: what a user is told about a reading."""

import math

import pytest

from mathlens.inference.calibration import FEATURES, MAX_TOKENS_PER_COLUMN, Calibration, Signals, judge
from mathlens.inference.predictor import Prediction, Predictor


def _signals(**kw) -> Signals:
    return Signals(**{"mean_logp": -0.1, "min_logp": -0.3, "num_tokens": 10, "num_columns": 10, **kw})


def test_the_probability_follows_the_fitted_logistic_model():
    cal = Calibration(coef=(2.0,) + (0.0,) * (len(FEATURES) - 1), intercept=1.0)
    assert cal.probability(_signals(mean_logp=-0.5)) == pytest.approx(0.5)
    assert cal.probability(_signals(mean_logp=-0.1)) > cal.probability(_signals(mean_logp=-2.0))


def test_a_reading_far_longer_than_its_picture_is_unsure_whatever_its_probability():
    sure = Calibration(coef=(0.0,) * len(FEATURES), intercept=10.0)
    confidence, unsure = judge(_signals(num_tokens=40, num_columns=3), sure)
    assert confidence <= 0.01 and "longer than the picture" in unsure
    assert judge(_signals(num_tokens=int(MAX_TOKENS_PER_COLUMN * 5) - 2, num_columns=5), sure)[1] is None


def test_low_probability_is_flagged_with_the_figure():
    doubtful = Calibration(coef=(0.0,) * len(FEATURES), intercept=math.log(0.3 / 0.7))
    confidence, unsure = judge(_signals(), doubtful)
    assert confidence == pytest.approx(0.3) and unsure == "low confidence: about 30% likely to be exactly right"


def test_without_a_calibration_the_confidence_is_the_geometric_mean():
    assert judge(_signals(mean_logp=math.log(0.8)), None) == (pytest.approx(0.8), None)


def test_conclude_counts_the_views_that_agree(tiny_onnx_dir):
    predictor = Predictor(tiny_onnx_dir, num_threads=1)
    predictor.calibration = Calibration(coef=(0.0, 0.0, 0.0, 4.0) + (0.0,) * (len(FEATURES) - 4), intercept=-2.0)
    views = [Prediction("x+1", 0.9, ("x", "+", "1"), signals=_signals()),
             Prediction("x+l", 0.8, ("x", "+", "l"), signals=_signals()),
             Prediction("x+1", 0.7, ("x", "+", "1"), signals=_signals())]
    answer = predictor.conclude(views)
    assert answer.latex == "x+1" and answer.signals.agreement == pytest.approx(2 / 3) and answer.signals.num_views == 3
    assert answer.confidence == pytest.approx(1 / (1 + math.exp(-(4 * 2 / 3 - 2))), abs=1e-4)
