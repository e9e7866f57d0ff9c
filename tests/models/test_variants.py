import pytest
import torch

from mathlens.models.im2latex import Im2Latex
from mathlens.registry import VARIANTS, model_config


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_trains_one_step(name):
    torch.manual_seed(0)
    model = Im2Latex(model_config(name, 40))
    images = torch.rand(2, 1, 32, 64)
    mask = torch.ones_like(images)
    mask[1, :, :, 40:] = 0
    tokens = torch.randint(0, 40, (2, 7))
    logits = model(images, mask, tokens)
    assert logits.shape == (2, 7, 40)
    assert torch.isfinite(logits).all()
    logits.logsumexp(-1).mean().backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert no_grad == []


def test_decode_step_matches_teacher_forcing():
    torch.manual_seed(0)
    model = Im2Latex(model_config("tiny", 30)).eval()
    images = torch.rand(2, 1, 32, 96)
    mask = torch.ones_like(images)
    tokens = torch.randint(4, 30, (2, 6))
    with torch.no_grad():
        full = model(images, mask, tokens)
        memory, memory_mask = model.encode(images, mask)
        cross_k, cross_v = model.decoder.cross_cache(memory)
        self_k, self_v = model.empty_cache(2)
        for t in range(6):
            logits, self_k, self_v = model.decode_step(tokens[:, t:t + 1], torch.tensor(t), self_k, self_v,
                                                       cross_k, cross_v, memory_mask)
            torch.testing.assert_close(logits, full[:, t], atol=1e-4, rtol=1e-4)


def test_padding_does_not_change_the_output():
    torch.manual_seed(0)
    model = Im2Latex(model_config("tiny", 30)).eval()
    image = torch.rand(1, 1, 32, 64)
    padded = torch.zeros(1, 1, 48, 128)
    padded[..., :32, :64] = image
    mask = torch.zeros_like(padded)
    mask[..., :32, :64] = 1
    tokens = torch.randint(4, 30, (1, 5))
    with torch.no_grad():
        a = model(image, torch.ones_like(image), tokens)
        b = model(padded, mask, tokens)
    torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-3)


def test_unknown_variant_suggests_a_name():
    with pytest.raises(KeyError, match="small"):
        model_config("smal", 10)
