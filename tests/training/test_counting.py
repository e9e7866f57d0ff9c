import torch

from mathlens.tokenizer.vocab import Vocab
from mathlens.training.counting import CountingHead, countable_mask, token_counts

VOCAB = Vocab(("<pad>", "<s>", "</s>", "<unk>", "{", "}", "^", "x", "2", "+", "\\frac"))


def test_only_symbols_are_counted():
    mask = countable_mask(VOCAB)
    counted = [t for t, m in zip(VOCAB.tokens, mask.tolist()) if m]
    assert counted == ["x", "2", "+", "\\frac"]


def test_token_counts_histogram_per_row():
    ids = torch.tensor([VOCAB.encode("x ^ { 2 } + x".split())[1:], VOCAB.encode(["2"])[1:] + [0] * 6])
    counts = token_counts(ids, len(VOCAB)) * countable_mask(VOCAB)
    assert counts[0, VOCAB.tokens.index("x")] == 2 and counts[0, VOCAB.tokens.index("2")] == 1
    assert counts[1].sum() == 1  # padding and EOS are not symbols


def test_padding_positions_count_nothing():
    head = CountingHead(8, VOCAB)
    memory = torch.randn(1, 6, 8)
    mask = torch.zeros(1, 1, 1, 6)
    mask[..., 3:] = -1e4  # the last three positions are padding
    changed = memory.clone()
    changed[:, 3:] = torch.randn(1, 3, 8) * 10
    assert torch.allclose(head(memory, mask), head(changed, mask))


def test_head_learns_to_count_and_sends_gradient_to_the_features():
    torch.manual_seed(0)
    memory = torch.randn(4, 12, 8, requires_grad=True)
    mask = torch.zeros(4, 1, 1, 12)
    tgt = torch.tensor([VOCAB.encode(s.split())[1:] + [0] * (7 - len(s.split())) for s in
                        ["x + x", "\\frac { 2 } { x }", "2", "x ^ { 2 } + 2"]])
    head = CountingHead(8, VOCAB)
    first = head.loss(memory, mask, tgt)
    assert first.item() < 3.0  # a fresh head counts about nothing: the loss is about the symbols per formula
    first.backward()
    assert memory.grad is not None and memory.grad.abs().sum() > 0
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        loss = head.loss(memory.detach(), mask, tgt)
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * first.item()
