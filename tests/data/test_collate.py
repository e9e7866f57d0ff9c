import torch

from mathlens.data.collate import right_to_left


def test_right_to_left_reverses_each_formula_before_its_eos():
    tgt_out = torch.tensor([[5, 6, 7, 2, 0], [8, 2, 0, 0, 0]])  # tokens, EOS (2), PAD (0)
    inputs, targets = right_to_left(tgt_out, start_id=2)
    assert inputs.tolist() == [[2, 7, 6, 5, 0], [2, 8, 0, 0, 0]]
    assert targets.tolist() == [[7, 6, 5, 2, 0], [8, 2, 0, 0, 0]]
