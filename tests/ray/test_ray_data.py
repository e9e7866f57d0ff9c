"""`mathlens batch`: a folder of images through Ray Data actors into a JSONL file, one line per input."""

from __future__ import annotations

import json
import shutil

import pytest

from mathlens.cli.main import main

# Ray Data warns about its own deprecated settings.
pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data")]


@pytest.fixture
def image_dir(tmp_path, fixtures):
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    for name in ("a.png", "b.png", "sub/c.png"):
        shutil.copy(fixtures / "quadratic.png", folder / name)
    (folder / "broken.png").write_bytes(b"this is not a PNG")
    return folder


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_batch_writes_one_line_per_input_and_resumes(ray_cluster, image_dir, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    args = ["batch", str(image_dir), "--output", str(out), "--actors", "2", "--batch-size", "2",
            "--cpus-per-actor", "0.5"]
    assert main(args) == 0
    records = read_jsonl(out)
    expected = [str(image_dir / name) for name in ("a.png", "b.png", "broken.png", "sub/c.png")]
    assert [r["path"] for r in records] == expected  # input order, every input once
    broken = records[2]
    assert set(broken) == {"path", "error"} and "not a recognised image format" in broken["error"]
    good = [r for r in records if "error" not in r]
    assert all(set(r) == {"path", "latex", "confidence"} and 0.0 <= r["confidence"] <= 1.0 for r in good)
    assert len({r["latex"] for r in good}) == 1 and good[0]["latex"]
    assert "4 done (1 unreadable)" in capsys.readouterr().err

    (image_dir / "d.png").write_bytes((image_dir / "a.png").read_bytes())
    assert main(args) == 0  # a rerun only does what is missing
    assert [r["path"] for r in read_jsonl(out)] == expected + [str(image_dir / "d.png")]
    assert "1 done (0 unreadable)" in capsys.readouterr().err


def test_predict_dataset_reports_missing_files(ray_cluster, tmp_path, fixtures):
    from mathlens.jobs.ray_batch import predict_dataset

    out = tmp_path / "out.jsonl"
    summary = predict_dataset([fixtures / "quadratic.png", tmp_path / "missing.png"], out, num_actors=1,
                              num_cpus_per_actor=0.5)
    assert (summary.num_done, summary.num_failed, summary.num_skipped) == (2, 1, 0)
    first, second = read_jsonl(out)
    assert first["latex"] and "no such file" in second["error"]
