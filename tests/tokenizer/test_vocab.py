from mathlens.tokenizer.vocab import SPECIALS, Vocab


def test_build_keeps_frequent_tokens_and_specials_first():
    vocab = Vocab.build([["a", "b"], ["a", "c"], ["a"]], min_count=2)
    assert vocab.tokens[:4] == SPECIALS
    assert "a" in vocab and "b" not in vocab


def test_encode_decode_roundtrip_and_unknown(tmp_path):
    vocab = Vocab.build([["x", "+", "y"]], min_count=1)
    ids = vocab.encode(["x", "+", "q"])
    assert ids[0] == vocab.bos_id and ids[-1] == vocab.eos_id and ids[3] == vocab.unk_id
    assert vocab.decode(vocab.encode(["x", "+", "y"])[1:]) == ["x", "+", "y"]
    vocab.save(tmp_path / "v.json")
    assert Vocab.load(tmp_path / "v.json") == vocab
