from pathlib import Path

import numpy as np
import pytest

from mathlens.inference.inkml import parse_inkml
from mathlens.inference.predictor import Predictor
from mathlens.inference.preprocess import preprocess_views
from mathlens.inference.style import StyleProbe, pooled_keys

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_pooled_keys_average_only_the_pictures_own_positions():
    cross_k = np.zeros((2, 2, 1, 3, 2), np.float32)  # (L, B, h, S, hd)
    cross_k[:, 0, :, :2] = 1.0
    cross_k[:, 0, :, 2] = 100.0  # the first picture's padding
    cross_k[:, 1] = 3.0
    mask = np.zeros((2, 1, 1, 3), np.float32)
    mask[0, ..., 2] = -1e4
    assert np.allclose(pooled_keys(cross_k, mask), [[1.0] * 4, [3.0] * 4])


def test_the_probe_says_handwriting_above_its_threshold():
    probe = StyleProbe((1.0, -1.0), bias=-0.5)
    assert probe.handwritten(np.array([[2.0, 0.0], [0.0, 2.0], [0.5, 0.0]])).tolist() == [True, False, False]


def test_without_a_probe_every_picture_gets_every_view(tiny_onnx_dir):
    predictor = Predictor(tiny_onnx_dir)
    assert predictor.style_probe is None and predictor.judge is None
    cfg = predictor.preprocess_config
    views = preprocess_views(EXAMPLES / "quadratic.png", cfg, judge=predictor.judge)
    assert len(views) == len(cfg.picture_views) > 1


@pytest.fixture(scope="module")
def shipped() -> Predictor:
    predictor = Predictor()
    assert predictor.style_probe is not None, "the shipped model.json carries the fitted probe"
    return predictor


@pytest.mark.parametrize("name", ["quadratic.png", "euler.png", "gaussian.png", "sum.png"])
def test_the_shipped_probe_reads_print_once(shipped, name):
    assert len(preprocess_views(EXAMPLES / name, shipped.preprocess_config, judge=shipped.judge)) == 1


def test_the_shipped_probe_reads_handwriting_at_every_view(shipped, fixtures):
    cfg = shipped.preprocess_config
    photo = preprocess_views(EXAMPLES / "handwritten_photo.jpg", cfg, judge=shipped.judge)
    assert len(photo) == len(cfg.handwriting_views) > len(cfg.picture_views)

    def never(array):
        raise AssertionError("ink is handwriting: the judge is not asked")

    ink = parse_inkml((fixtures / "inkml" / "b_x_plus_2_eq_3.crohme.inkml").read_bytes())
    assert len(preprocess_views(ink, cfg, judge=never)) == len(cfg.ink_views)
    assert len(preprocess_views(EXAMPLES / "quadratic.png", cfg, views=False, judge=never)) == 1


def test_a_picture_judged_print_is_read_from_the_probes_encoding(shipped):
    views = preprocess_views(EXAMPLES / "quadratic.png", shipped.preprocess_config, judge=shipped.judge)
    encoded = []
    start = shipped.backend.start
    shipped.backend.start = lambda *args: encoded.append(args) or start(*args)
    try:
        reused = shipped.predict_views([views])[0]
        again = shipped.predict_views([views])[0]  # not judged since: encoded afresh
    finally:
        del shipped.backend.start
    assert len(encoded) == 1 and reused.latex == again.latex and reused.confidence == again.confidence
