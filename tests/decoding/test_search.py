from pathlib import Path

import numpy as np
import pytest
import torch

from mathlens.config import DecodeConfig
from mathlens.decoding.search import beam_search, greedy, is_looping
from mathlens.inference.predictor import Predictor
from mathlens.inference.preprocess import pad_batch, preprocess
from mathlens.inference.torch_backend import TorchStepModel
from mathlens.models.im2latex import Im2Latex
from mathlens.registry import model_config


class TableModel:
    """A step model whose log-probs depend only on the previous token: a known best path."""

    def __init__(self, table: dict[int, dict[int, float]], vocab_size: int = 6) -> None:
        self.table, self.vocab_size = table, vocab_size

    def step(self, state, tokens, position):
        out = np.full((len(tokens), self.vocab_size), -30.0, dtype=np.float32)
        for row, tok in enumerate(tokens):
            for nxt, p in self.table.get(int(tok), {2: 1.0}).items():
                out[row, nxt] = np.log(p)
        return out, state

    def select(self, state, rows):
        return state

    reorder = select


def test_beam_finds_the_better_sequence_greedy_misses():
    # From BOS: token 4 (0.6) leads to an uncertain tail; token 5 (0.4) leads to EOS surely.
    model = TableModel({1: {4: 0.6, 5: 0.4}, 4: {3: 0.5, 2: 0.5}, 3: {2: 0.3, 3: 0.7}, 5: {2: 1.0}})
    cfg = DecodeConfig(max_len=10, length_penalty=0.0)
    assert greedy(model, None, 1, cfg)[0].ids[0] == 4
    best = beam_search(model, None, 1, DecodeConfig(beam_size=3, max_len=10, length_penalty=0.0))[0]
    assert best.ids == [5]


def test_beam_size_one_equals_greedy_on_a_random_model():
    torch.manual_seed(0)
    model = Im2Latex(model_config("tiny", 20)).eval()
    images = torch.rand(3, 1, 32, 64)
    stepper = TorchStepModel(model)
    cfg = DecodeConfig(beam_size=1, max_len=12)
    a = greedy(stepper, stepper.start(images, torch.ones_like(images)), 3, cfg)
    b = beam_search(stepper, stepper.start(images, torch.ones_like(images)), 3, cfg)
    assert [h.ids for h in a] == [h.ids for h in b]
    assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5)


def test_beam_size_one_equals_greedy_on_the_shipped_model():
    """beam_search runs its own machinery at beam 1 (the predictor, not it, dispatches to greedy)."""
    predictor = Predictor()
    examples = Path(__file__).parents[2] / "examples"
    paths = [examples / name for name in ("quadratic.png", "handwritten.inkml", "sum.png")]
    images, mask = pad_batch([preprocess(p, predictor.preprocess_config) for p in paths])
    cfg = DecodeConfig(beam_size=1)
    a = greedy(predictor.backend, predictor.backend.start(images, mask), len(images), cfg)
    b = beam_search(predictor.backend, predictor.backend.start(images, mask), len(images), cfg)
    assert all(len(h.ids) > 3 for h in a)  # real readings
    assert [h.ids for h in a] == [h.ids for h in b]
    # int8 activations are quantized per call, and greedy drops finished rows from its batches
    assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-3)


def test_batched_beam_equals_one_at_a_time():
    torch.manual_seed(1)
    model = Im2Latex(model_config("tiny", 20)).eval()
    images = torch.rand(2, 1, 32, 64)
    stepper = TorchStepModel(model)
    cfg = DecodeConfig(beam_size=3, max_len=10)
    batched = beam_search(stepper, stepper.start(images, torch.ones_like(images)), 2, cfg)
    for i in range(2):
        one = images[i:i + 1]
        single = beam_search(stepper, stepper.start(one, torch.ones_like(one)), 1, cfg)[0]
        assert single.ids == batched[i].ids


def test_repetition_guard_stops_loops():
    cfg = DecodeConfig(max_len=100, max_repeats=4)
    assert is_looping([7, 8, 9] * 4, cfg)
    assert not is_looping([7, 8, 9, 10] * 2, cfg)
    looping = TableModel({1: {4: 1.0}, 4: {5: 1.0}, 5: {4: 1.0}})
    hyp = greedy(looping, None, 1, cfg)[0]
    assert hyp.stopped_by_guard and len(hyp.ids) < 20


def test_right_to_left_scores_equal_teacher_forcing():
    from mathlens.decoding.search import R2L_ID, right_to_left_logp

    torch.manual_seed(2)
    model = Im2Latex(model_config("tiny", 20)).eval()
    images = torch.rand(2, 1, 32, 64)
    stepper = TorchStepModel(model)
    seqs = [[5, 9, 7], [11]]
    scores = right_to_left_logp(stepper, stepper.start(images, torch.ones_like(images)), seqs)
    for i, seq in enumerate(seqs):
        inputs = torch.tensor([[R2L_ID] + seq[::-1]])
        with torch.no_grad():
            logp = model(images[i:i + 1], torch.ones_like(images[i:i + 1]), inputs).log_softmax(-1)[0]
        targets = seq[::-1] + [2]
        assert scores[i] == pytest.approx(float(sum(logp[t, tok] for t, tok in enumerate(targets))), abs=1e-4)


def test_right_to_left_rescoring_can_overrule_the_left_to_right_choice():
    # Left to right, [4] (0.55) beats [5] (0.45); read backwards (from R2L_ID = EOS = 2),
    # [5] is sure and [4] unlikely: both readings together pick [5].
    model = TableModel({1: {4: 0.55, 5: 0.45}, 4: {2: 1.0}, 5: {2: 1.0}, 2: {5: 0.95, 4: 0.05}})
    cfg = DecodeConfig(beam_size=2, max_len=5, length_penalty=0.0)
    assert beam_search(model, None, 1, cfg)[0].ids == [4]
    assert beam_search(model, None, 1, cfg, right_to_left=True)[0].ids == [5]
