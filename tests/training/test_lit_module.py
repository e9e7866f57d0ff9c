import pytest

from mathlens.training.lit_module import lr_factor


def test_cosine_warms_up_then_decays_to_the_floor():
    factors = [lr_factor(step, warmup_steps=10, max_steps=100) for step in range(101)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))
    assert factors[55] == pytest.approx(0.525) and factors[100] == pytest.approx(0.05)


def test_warmup_stable_decay_holds_the_peak_until_the_last_steps():
    factors = [lr_factor(step, warmup_steps=10, max_steps=100, decay_steps=20) for step in range(120)]
    assert factors[9:81] == [1.0] * 72
    assert factors[90] == pytest.approx(0.525) and factors[100:] == [pytest.approx(0.05)] * 20
    # the same run continued from step 80 with a larger budget stays at the peak
    assert lr_factor(81, warmup_steps=10, max_steps=300, decay_steps=20) == 1.0


@pytest.mark.parametrize("extra", ["r2l_loss_weight", "tree_loss_weight"])
def test_an_auxiliary_loss_trains_the_decoder_on_the_same_images(extra):
    import numpy as np
    import torch

    from mathlens.data.collate import collate
    from mathlens.registry import model_config
    from mathlens.tokenizer.vocab import Vocab
    from mathlens.training.lit_module import LitIm2Latex

    tokens = ["x", "^", "{", "2", "}", "+", "y"]
    vocab = Vocab.build([tokens], min_count=1)
    batch = collate([(np.random.default_rng(0).random((32, 64), dtype=np.float32), vocab.encode(tokens))])
    losses = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        lit = LitIm2Latex.create(model_config("tiny", len(vocab)), vocab, **{extra: weight})
        lit.log = lambda *args, **kwargs: None  # no trainer attached
        loss = lit.training_step(batch, 0)
        loss.backward()
        losses[weight] = loss.item()
        assert all(p.grad is not None for p in lit.model.decoder.parameters())
    assert losses[1.0] > losses[0.0] > 0  # the backward reading, or the tree positions, add their own loss


def test_a_batch_with_non_finite_gradients_changes_nothing():
    import numpy as np
    import torch

    from mathlens.data.collate import collate
    from mathlens.registry import model_config
    from mathlens.tokenizer.vocab import Vocab
    from mathlens.training.lit_module import LitIm2Latex

    vocab = Vocab.build([["x", "+", "y"]], min_count=1)
    image = np.random.default_rng(0).random((32, 64), dtype=np.float32)
    torch.manual_seed(0)
    lit = LitIm2Latex.create(model_config("tiny", len(vocab)), vocab)
    lit.log = lambda *args, **kwargs: None  # no trainer attached
    optimizer = torch.optim.AdamW(lit.parameters(), lr=1e-3)

    def step(pixels: np.ndarray) -> None:
        batch = collate([(pixels, vocab.encode(["x", "+", "y"]))])
        lit.on_train_batch_start(batch, 0)
        lit.training_step(batch, 0).backward()
        lit.on_before_optimizer_step(optimizer)
        optimizer.step()
        optimizer.zero_grad()

    step(image)
    weights = [p.detach().clone() for p in lit.parameters()]
    buffers = [b.detach().clone() for b in lit.model.buffers()]
    poisoned = image.copy()
    poisoned[0, 0] = np.nan
    step(poisoned)
    assert lit.skipped_steps == 1
    assert all(torch.equal(a, b) for a, b in zip(weights, lit.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(buffers, lit.model.buffers()))
    step(image)  # training goes on
    assert lit.skipped_steps == 1 and all(torch.isfinite(p).all() for p in lit.parameters())
    assert not all(torch.equal(a, b) for a, b in zip(weights, lit.parameters()))
