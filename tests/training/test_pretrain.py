"""The LaTeX encoder's pretraining: its targets, and a short real run that resumes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mathlens.models.latex_encoder import LatexEncoderConfig
from mathlens.tokenizer.normalize import normalize
from mathlens.training.pretrain import (IGNORE, MASK_ID, PretrainConfig, bracket_depths, load_encoder, mask_tokens,
                                        pretrain)

pytestmark = pytest.mark.train


def test_bracket_depth_counts_braces_and_left_right():
    tokens = normalize(r"\frac{a}{b^{2}}+\left(x\right)")
    depths = dict(zip(range(len(tokens)), bracket_depths(tokens, classes=8)))
    assert [(t, depths[i]) for i, t in enumerate(tokens)] == [
        ("\\frac", 0), ("{", 0), ("a", 1), ("}", 0), ("{", 0), ("b", 1), ("^", 1), ("{", 1), ("2", 2), ("}", 1),
        ("}", 0), ("+", 0), ("\\left", 0), ("(", 1), ("x", 1), ("\\right", 0), (")", 0)]
    assert bracket_depths(["{"] * 10 + ["x"], classes=4)[-1] == 3  # deeper ones share the last class
    assert bracket_depths(["}", "x"], classes=4) == [0, 0]  # unbalanced input stays at 0


def test_masking_chooses_only_real_tokens_and_keeps_what_it_did_not_choose():
    rng = np.random.default_rng(0)
    ids = np.array([[1] + list(range(4, 404)) + [2, 0, 0]])
    inputs, targets = mask_tokens(ids, vocab_size=500, prob=0.15, rng=rng)
    chosen = targets != IGNORE
    assert not chosen[ids < 4].any() and 30 < chosen.sum() < 100
    assert (inputs[~chosen] == ids[~chosen]).all() and (targets[chosen] == ids[chosen]).all()
    assert (inputs[chosen] == MASK_ID).mean() > 0.6


@pytest.mark.slow
def test_a_short_run_resumes_and_gives_unit_features(tmp_path, write_corpus, tiny_onnx_dir):
    corpus = write_corpus([r"x^{2}+y^{2}=1", r"\frac{a}{b}", r"\sqrt{x+1}", r"e^{i\pi}+1=0", r"a_{n+1}=a_{n}"] * 8)
    cfg = PretrainConfig(out_dir=tmp_path / "run", corpus=corpus, vocab_from=tiny_onnx_dir / "model.json", steps=4,
                         batch_size=8, warmup=2, val_size=8, checkpoint_every=2,
                         model=LatexEncoderConfig(dim=32, layers=1, heads=2, ff=64, max_len=64))
    path = pretrain(cfg)
    first = torch.load(path, weights_only=False)
    assert first["step"] == 4
    pretrain(PretrainConfig(**{**cfg.__dict__, "steps": 6}))  # resumes at 4
    assert torch.load(path, weights_only=False)["step"] == 6
    encoder, vocab = load_encoder(path)
    assert vocab.tokens == tuple(json.loads((tiny_onnx_dir / "model.json").read_text())["vocab"])
    short, long = vocab.encode(normalize(r"x")), vocab.encode(normalize(r"\frac{a}{b}"))
    ids = torch.tensor([short + [0] * (len(long) - len(short)), long])  # padding does not count
    features = encoder.features(ids)
    assert features.shape == (2, 32) and torch.allclose(features.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert torch.allclose(features[0], encoder.features(torch.tensor([short]))[0], atol=1e-5)


def test_a_decoder_starts_from_the_encoder_where_the_two_match(tmp_path):
    from dataclasses import asdict

    from mathlens.models.im2latex import Im2Latex
    from mathlens.models.latex_encoder import LatexEncoder
    from mathlens.registry import model_config
    from mathlens.training.pretrain import init_decoder
    from mathlens.training.state import save_state

    torch.manual_seed(0)
    cfg = LatexEncoderConfig(vocab_size=20, dim=32, layers=2, heads=2, ff=64, max_len=16)
    encoder = LatexEncoder(cfg)
    save_state(tmp_path / "last.pt", encoder, torch.optim.AdamW(encoder.parameters()), 1, model_config=asdict(cfg),
               vocab=["<pad>", "<s>", "</s>", "<unk>", *(f"t{i}" for i in range(16))])
    decoder = Im2Latex(model_config("tiny", 20)).decoder
    cross_before = decoder.layers[0].cross_attn.q.weight.clone()
    assert init_decoder(decoder, tmp_path / "last.pt") == 18
    attn = encoder.encoder.layers[0].self_attn
    assert torch.equal(decoder.layers[0].self_attn.q.weight, attn.in_proj_weight[:32])
    assert torch.equal(decoder.layers[0].self_attn.kv.bias, attn.in_proj_bias[32:])
    assert torch.equal(decoder.layers[0].ff.net[3].weight, encoder.encoder.layers[0].linear2.weight)
    assert torch.equal(decoder.head.weight, encoder.embed.weight)  # tied: the output layer reads the same table
    assert torch.equal(decoder.layers[0].cross_attn.q.weight, cross_before)  # nothing to start it from
    with pytest.raises(ValueError, match="another vocabulary"):
        init_decoder(Im2Latex(model_config("tiny", 21)).decoder, tmp_path / "last.pt")
    with pytest.raises(ValueError, match="cannot start"):
        init_decoder(Im2Latex(model_config("small", 20)).decoder, tmp_path / "last.pt")
