import torch

from mathlens.tokenizer.vocab import Vocab
from mathlens.training.tree import ARG, DEN, IGNORE, LINE, NUM, SUB, SUP, TreeHead, tree_labels, tree_positions

VOCAB = Vocab(("<pad>", "<s>", "</s>", "<unk>", "{", "}", "^", "_", "x", "2", "+", "\\frac", "\\sqrt", "\\mathrm", "d"))


def test_superscripts_fractions_and_plain_groups():
    tokens = "x ^ { 2 } + \\frac { x } { \\sqrt { 2 } } + \\mathrm { d } x _ { x ^ { 2 } }".split()
    depths, relations = tree_positions(tokens)
    where = {i: (tok, depths[i], relations[i]) for i, tok in enumerate(tokens)}
    assert where[0] == ("x", 0, LINE) and where[3] == ("2", 1, SUP) and where[5] == ("+", 0, LINE)
    assert where[2] == ("{", 0, LINE) and where[4] == ("}", 0, LINE)  # braces belong to the group around them
    assert where[8] == ("x", 1, NUM) and where[11] == ("\\sqrt", 1, DEN) and where[13] == ("2", 2, ARG)
    assert where[19] == ("d", 1, LINE)  # \mathrm's group is no structure: it keeps the line's relation
    assert where[24] == ("x", 1, SUB) and where[27] == ("2", 2, SUP)
    assert len(depths) == len(relations) == len(tokens)


def test_unbalanced_braces_do_not_break_the_labels():
    depths, relations = tree_positions("} x ^ { { 2".split())
    assert depths == [0, 0, 0, 0, 1, 2] and relations == [LINE, LINE, LINE, LINE, SUP, SUP]


def test_labels_follow_the_targets_and_ignore_eos_and_padding():
    rows = ["x ^ { 2 }", "x"]
    ids = [VOCAB.encode(r.split())[1:] for r in rows]
    tgt = torch.tensor([row + [0] * (6 - len(row)) for row in ids])
    depth, relation = tree_labels(tgt, VOCAB)
    assert depth[0].tolist() == [0, 0, 0, 1, 0, IGNORE] and relation[0, 3] == SUP
    assert depth[1].tolist() == [0] + [IGNORE] * 5


def test_the_head_learns_and_sends_gradient_to_the_states():
    torch.manual_seed(0)
    tgt = torch.tensor([VOCAB.encode("x ^ { 2 } + x".split())[1:]])
    states = torch.randn(1, tgt.shape[1], 16, requires_grad=True)
    head = TreeHead(16)
    optimizer = torch.optim.Adam([*head.parameters(), states], lr=0.05)
    first = head.loss(states, tgt, VOCAB)
    first.backward()
    assert states.grad is not None and states.grad.abs().sum() > 0
    for _ in range(50):
        optimizer.zero_grad()
        loss = head.loss(states, tgt, VOCAB)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.1 * first.item()
