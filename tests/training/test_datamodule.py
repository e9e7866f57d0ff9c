import random
from pathlib import Path

import pytest

from mathlens.data.manifest import Record
from mathlens.training.datamodule import repeat_records


def _records(n: int) -> list[Record]:
    return [Record(Path(f"{i}.png"), ["x"]) for i in range(n)]


@pytest.mark.parametrize("weight, expected", [(1.0, 10), (2.0, 20), (2.5, 25), (0.3, 3)])
def test_weights_set_each_manifests_share(weight, expected):
    records = _records(10)
    out = repeat_records(records, weight, random.Random(0))
    assert len(out) == expected
    assert set(map(id, out)) <= set(map(id, records))
    assert len(set(map(id, out))) == min(10, expected)  # whole repeats cover every record


def test_expected_sizes_read_the_headers_and_apply_the_training_rescale(tmp_path):
    from PIL import Image

    from mathlens.training.datamodule import expected_sizes

    Image.new("L", (300, 60), 255).save(tmp_path / "a.png")
    records = [Record(tmp_path / "a.png", ("x",), dpi=180.0), Record(tmp_path / "a.png", ("x",))]
    assert expected_sizes(records, (80.0, 100.0)) == [(30.0, 150.0), (60.0, 300.0)]


def test_a_resumed_shard_goes_on_where_the_interrupted_one_stopped():
    from mathlens.data.collate import LengthBucketSampler
    from mathlens.training.datamodule import RankShard

    lengths = [random.Random(i).randint(3, 120) for i in range(300)]

    def shard(skip: int = 0) -> RankShard:
        return RankShard(LengthBucketSampler(lengths, 8, 400, seed=5), rank=1, world_size=2, skip=skip)

    uninterrupted = shard()
    stream = [batch for _ in range(3) for batch in uninterrupted]  # three epochs, one after another
    first_epoch = len(shard())
    for done in (0, 7, first_epoch, first_epoch + 4):
        resumed, seen = shard(skip=done), []
        while len(seen) < len(stream) - done:
            seen += list(resumed)
        assert seen[: len(stream) - done] == stream[done:]


def test_weight_and_keep_all_from_are_set_per_source(tmp_path):
    from mathlens.config import DataConfig, PreprocessConfig, SourceConfig
    from mathlens.data.manifest import write_manifest
    from mathlens.tokenizer.vocab import Vocab
    from mathlens.training.datamodule import FormulaDataModule, short_formula_keep_prob

    assert short_formula_keep_prob(12) == 0.5 and short_formula_keep_prob(1) == pytest.approx(0.2)
    assert short_formula_keep_prob(24, keep_all_from=48) == 0.5 and short_formula_keep_prob(60, keep_all_from=48) == 1.0
    short = [Record(tmp_path / "a.png", ("x",) * 12)]
    write_manifest(tmp_path / "print.jsonl", short)
    write_manifest(tmp_path / "ink.jsonl", short)
    cfg = DataConfig(sources=(SourceConfig("print", "manifest", keep_all_from=48, path=tmp_path / "print.jsonl"),
                              SourceConfig("ink", "manifest", weight=2, path=tmp_path / "ink.jsonl")))
    module = FormulaDataModule(cfg, Vocab.build([["x"]], min_count=1), PreprocessConfig())
    module.setup()
    assert module.train_keep_prob == [0.25, 0.5, 0.5]  # the ink record twice (weight 2)
    with pytest.raises(ValueError, match="kind manifest needs a path"):
        FormulaDataModule(DataConfig(sources=(SourceConfig("mine", "manifest"),)), Vocab.build([["x"]], min_count=1),
                          PreprocessConfig()).setup()
