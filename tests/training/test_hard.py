import json

import pytest

from mathlens.config import DataConfig, SourceConfig
from mathlens.data.manifest import read_manifest
from mathlens.training.hard import misread, read_records, sample_training_records, write_hard_manifest


def _data(tmp_path, rendered_dir, weights=(1.0, 3.0)) -> DataConfig:
    for name in ("a", "b"):
        (tmp_path / "root" / name).mkdir(parents=True)
        (tmp_path / "root" / name / "manifest.jsonl").write_text((rendered_dir / "manifest.jsonl").read_text())
    return DataConfig(data_root=tmp_path / "root",
                      sources=(SourceConfig("a", "tex", weight=weights[0]), SourceConfig("b", "tex", weight=weights[1]),
                               SourceConfig("off", "tex", weight=0.0)))


@pytest.mark.texlive
def test_records_are_drawn_by_the_sources_weights(tmp_path, rendered_dir):
    records = sample_training_records(_data(tmp_path, rendered_dir), 24, seed=1)
    names = [r.source for r in records]
    assert len(records) == 24 and len({r.image_path for r in records if r.source == "a"}) == names.count("a")
    assert names.count("b") > names.count("a")  # 3:1 by weight; the source at weight 0 is never read


@pytest.mark.texlive
def test_misread_records_become_a_manifest_and_reading_resumes(tmp_path, rendered_dir):
    records = read_manifest(rendered_dir / "manifest.jsonl")
    readings_path = tmp_path / "readings.jsonl"
    counted = []
    readings = read_records(records[:8], None, readings_path, progress=counted.append)
    assert sum(counted) == 8 and len(readings_path.read_text().splitlines()) == 8
    counted.clear()
    readings = read_records(records, None, readings_path, progress=counted.append)  # the first 8 are not read again
    assert counted[0] == 8 and sum(counted) == len(records) == len(readings_path.read_text().splitlines())
    wrong = misread(records, readings)
    assert 0 < len(wrong) < len(records)  # the shipped model reads most of these renders right, not all
    path = write_hard_manifest(wrong, readings, tmp_path / "hard" / "manifest.jsonl")
    again = read_manifest(path)
    assert [(r.image_path, r.tokens, r.dpi) for r in again] == [(r.image_path, r.tokens, r.dpi) for r in wrong]
    first = json.loads(path.read_text().splitlines()[0])
    assert first["reading"] == readings[str(wrong[0].image_path)] != list(wrong[0].tokens)
