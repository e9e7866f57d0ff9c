"""Predictor batching: how many hypotheses one model call holds."""

import numpy as np

from mathlens.config import DecodeConfig
from mathlens.inference.predictor import Predictor


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
