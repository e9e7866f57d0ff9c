"""Predictor batching (how many hypotheses one model call holds) and reading several views."""

from dataclasses import replace

import numpy as np
import pytest

from mathlens.config import DecodeConfig
from mathlens.inference.predictor import Prediction, Predictor, agree


def test_a_call_holds_at_most_max_batch_size_hypotheses(tiny_onnx_dir):
    predictor = Predictor(tiny_onnx_dir, num_threads=1, max_batch_size=4)
    sizes = []
    start = predictor.backend.start
    predictor.backend.start = lambda images, mask: sizes.append(len(images)) or start(images, mask)
    rng = np.random.default_rng(0)
    arrays = [rng.random((32, 64 + 8 * i), dtype=np.float32) for i in range(5)]
    cfg = DecodeConfig(beam_size=3, max_len=12)
    together = predictor.predict(arrays, cfg)
    assert sizes == [1] * 5  # 4 // 3 images a call
    sizes.clear()
    assert len(predictor.predict(arrays, DecodeConfig(beam_size=1, max_len=12))) == 5 and sizes == [4, 1]
    alone = [predictor.predict([a], cfg)[0] for a in arrays]
    assert [p.tokens for p in together] == [p.tokens for p in alone]


def _reading(tokens: str, confidence: float) -> Prediction:
    return Prediction(tokens.replace(" ", ""), confidence, tuple(tokens.split()))


def test_views_that_agree_outvote_one_surer_view():
    readings = [_reading("x + 1", 0.5), _reading("x + l", 0.9), _reading("x + 1", 0.45)]
    assert agree(readings) == readings[0]  # 0.95 summed against 0.9; the surer of the two agreeing
    assert agree([_reading("a", 0.6), _reading("b", 0.6)]).latex == "a"  # a tie goes to the first view
    assert agree([_reading("a", 0.3), _reading("b", 0.7)]).latex == "b"


def test_predict_views_answers_each_input_from_its_own_views(tiny_onnx_dir):
    predictor = Predictor(tiny_onnx_dir, num_threads=1)
    rng = np.random.default_rng(1)
    views = [[rng.random((32, 48 + 8 * i), dtype=np.float32) for i in range(n)] for n in (1, 3, 2)]
    cfg = DecodeConfig(beam_size=1, max_len=12, views_below=1.0)  # every view read
    answers = predictor.predict_views(views, cfg)
    assert len(answers) == 3
    for group, answer in zip(views, answers):
        alone = agree([predictor.predict([a], cfg)[0] for a in group])
        assert answer.tokens == alone.tokens and answer.signals.num_views == len(group)
        # the tiny model has no calibration: the confidence stays the geometric mean of its token probabilities
        assert answer.confidence == pytest.approx(alone.confidence, abs=1e-3)


def test_the_other_views_are_read_only_for_unsure_first_readings(tiny_onnx_dir):
    predictor = Predictor(tiny_onnx_dir, num_threads=1)
    rng = np.random.default_rng(2)
    views = [[rng.random((32, 40 + 8 * i + 24 * k), dtype=np.float32) for i in range(2)] for k in range(6)]
    cfg = DecodeConfig(beam_size=1, max_len=12)
    firsts = [predictor.conclude([p]) for p in predictor.predict([group[0] for group in views], cfg)]
    threshold = float(np.median([f.confidence for f in firsts]))
    read = []
    predict = predictor.predict
    predictor.predict = lambda arrays, c: read.extend(id(a) for a in arrays) or predict(arrays, c)
    answers = predictor.predict_views(views, replace(cfg, views_below=threshold))
    for group, first, answer in zip(views, firsts, answers):
        if first.confidence >= threshold:  # sure enough: read once
            assert id(group[1]) not in read and answer.tokens == first.tokens and answer.signals.num_views == 1
        else:
            assert id(group[1]) in read and answer.signals.num_views == 2
    assert 0 < sum(a.signals.num_views == 1 for a in answers) < len(views)
