import pytest

from mathlens.metrics.text import corpus_bleu, edit_distance, score


def test_edit_distance():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["a"]) == 1
    assert edit_distance(["a", "b"], ["a", "b"]) == 0


def test_bleu_bounds_and_brevity():
    ref = [["a", "b", "c", "d", "e"]]
    assert corpus_bleu(ref, ref) == pytest.approx(1.0)
    assert corpus_bleu(ref, [["x", "y", "z", "w"]]) == 0.0
    assert 0 < corpus_bleu(ref, [["a", "b", "c", "d"]]) < 1  # brevity penalty


def test_score_counts_exact_and_near_misses():
    refs = [["a"], ["a", "b"], ["a", "b", "c"], ["x"]]
    hyps = [["a"], ["a"], ["a"], ["y", "z", "w"]]
    s = score(refs, hyps)
    assert s.exact_match == 0.25 and s.within_1 == 0.5 and s.within_2 == 0.75
    assert s.num_samples == 4 and s.cer > 0
