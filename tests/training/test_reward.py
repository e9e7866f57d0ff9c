"""Reward fine-tuning: sampled and greedy readings, the two rewards, and the self-critical loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mathlens.config import DecodeConfig, RewardConfig
from mathlens.decoding.search import greedy
from mathlens.inference.torch_backend import TorchStepModel
from mathlens.models.im2latex import Im2Latex
from mathlens.models.latex_encoder import LatexEncoder, LatexEncoderConfig
from mathlens.registry import model_config
from mathlens.tokenizer.vocab import Vocab
from mathlens.training.reward import Reward, readings_as_tokens, sample_readings, self_critical_loss
from mathlens.training.state import save_state

pytestmark = pytest.mark.train
VOCAB = Vocab.build([["x", "^", "{", "2", "}", "+", "y", "=", "z"]], min_count=1)


def tiny_model() -> Im2Latex:
    torch.manual_seed(0)
    return Im2Latex(model_config("tiny", len(VOCAB))).eval()


def encode(model: Im2Latex, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.from_numpy(np.random.default_rng(0).random((n, 1, 32, 64), dtype=np.float32))
    return model.encode(images, torch.ones_like(images))


def test_greedy_rows_read_as_the_greedy_search_does_and_the_others_vary():
    model = tiny_model()
    images = torch.from_numpy(np.random.default_rng(0).random((3, 1, 32, 64), dtype=np.float32))
    mask = torch.ones_like(images)
    stepper = TorchStepModel(model)
    expected = [h.ids for h in greedy(stepper, stepper.start(images, mask), 3, DecodeConfig(max_len=12))]
    memory, memory_mask = model.encode(images, mask)
    torch.manual_seed(1)
    rows = torch.tensor([0, 0, 0, 0, 1, 2])
    ids = sample_readings(model.decoder, memory[rows], memory_mask[rows],
                          torch.tensor([True, False, False, False, True, True]), max_len=12)
    read = [row[: row.index(Vocab.eos_id)] if Vocab.eos_id in row else row for row in ids.tolist()]
    for e, i in zip(expected, (0, 4, 5)):  # the search's loop guard may stop it earlier
        common = min(len(e), len(read[i]))
        assert common > 0 and read[i][:common] == e[:common]
    assert len({tuple(r) for r in read[:4]}) > 1  # an untrained model's samples differ from each other
    after_eos = [row[row.index(Vocab.eos_id) + 1:] for row in ids.tolist() if Vocab.eos_id in row]
    assert all(set(tail) <= {Vocab.pad_id} for tail in after_eos)


def test_the_edit_reward_ranks_exact_over_close_over_far():
    reward = Reward(RewardConfig(kind="edit", exact_bonus=1.0), VOCAB)
    ref = "x ^ { 2 } + y".split()
    scores = reward([ref, "x ^ { 2 } + z".split(), ["y"]], [ref, ref, ref]).tolist()
    assert scores[0] == pytest.approx(2.0) and scores[1] == pytest.approx(1 - 1 / 7) and scores[2] < scores[1]


def test_the_cosine_reward_uses_the_pretrained_encoder(tmp_path):
    torch.manual_seed(0)
    cfg = LatexEncoderConfig(vocab_size=len(VOCAB), dim=32, layers=1, heads=2, ff=64, max_len=16)
    from dataclasses import asdict

    save_state(tmp_path / "last.pt", LatexEncoder(cfg), torch.optim.AdamW(LatexEncoder(cfg).parameters()), 1,
               model_config=asdict(cfg), vocab=list(VOCAB.tokens))
    reward = Reward(RewardConfig(kind="cosine", encoder=tmp_path / "last.pt", exact_bonus=0.5), VOCAB)
    ref = "x ^ { 2 } + y".split()
    exact, other = reward([ref, "z = y".split()], [ref, ref]).tolist()
    assert exact == pytest.approx(1.5, abs=1e-5) and other < 1.0  # cosine 1 plus the bonus, against less
    long_reading = ["x"] * 40  # longer than the encoder reads: cut, not an error
    assert reward([long_reading], [ref]).shape == (1,)
    with pytest.raises(ValueError, match="another vocabulary"):
        Reward(RewardConfig(kind="cosine", encoder=tmp_path / "last.pt"), Vocab.build([["a"]], min_count=1))
    with pytest.raises(ValueError, match="needs the pretrained"):
        Reward(RewardConfig(kind="cosine"), VOCAB)


def test_the_loss_is_zero_when_every_reading_scores_alike_and_trains_the_decoder_otherwise():
    model = tiny_model()
    memory, memory_mask = encode(model, 2)
    refs = ["x ^ { 2 }".split(), "y".split()]

    class Constant(Reward):
        def __call__(self, hyps, refs):
            return torch.ones(len(hyps))

    flat, _ = self_critical_loss(model.decoder, memory, memory_mask, refs,
                                 Constant(RewardConfig(kind="edit", samples=3, max_len=10), VOCAB))
    assert flat.item() == 0.0
    torch.manual_seed(2)
    loss, parts = self_critical_loss(model.decoder, memory, memory_mask, refs,
                                     Reward(RewardConfig(kind="edit", samples=3, max_len=10), VOCAB))
    loss.backward()
    assert loss.item() != 0.0 and set(parts) == {"reward", "reward_greedy", "exact_greedy"}
    assert model.decoder.embed.weight.grad.abs().sum() > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())


def test_readings_stop_at_eos():
    ids = torch.tensor([[VOCAB.encode(["x"])[1], Vocab.eos_id, Vocab.pad_id]])
    assert readings_as_tokens(ids, VOCAB) == [["x"]]
