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
    assert main(args) == 2  # broken.png failed, as with `mathlens predict --output`
    records = read_jsonl(out)
    expected = [str(image_dir / name) for name in ("a.png", "b.png", "broken.png", "sub/c.png")]
    assert [r["path"] for r in records] == expected  # input order, every input once
    broken = records[2]
    assert set(broken) == {"path", "error"} and "not a recognised image format" in broken["error"]
    good = [r for r in records if "error" not in r]
    assert all(set(r) == {"path", "latex", "confidence"} and 0.0 <= r["confidence"] <= 1.0 for r in good)
    assert len({r["latex"] for r in good}) == 1 and good[0]["latex"]
    assert f"mathlens: 3 read, 1 failed, 0 already in {out} (2 actor(s)" in capsys.readouterr().err

    # A rerun does what is missing and tries the failed input again; its new line is appended.
    (image_dir / "d.png").write_bytes((image_dir / "a.png").read_bytes())
    (image_dir / "broken.png").write_bytes((image_dir / "a.png").read_bytes())
    assert main(args) == 0
    again = read_jsonl(out)
    assert [r["path"] for r in again] == expected + [str(image_dir / name) for name in ("broken.png", "d.png")]
    assert again[4]["latex"] == good[0]["latex"]  # the last line of broken.png is its result now
    assert f"mathlens: 2 read, 0 failed, 3 already in {out}" in capsys.readouterr().err


def test_batch_says_when_there_is_nothing_to_read(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["batch", str(tmp_path / "empty"), "--output", str(tmp_path / "out.jsonl")]) == 2
    assert f"no images or InkML files in {tmp_path / 'empty'}" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_predict_dataset_reports_missing_files(ray_cluster, tmp_path, fixtures):
    from mathlens.jobs.ray_batch import predict_dataset

    out = tmp_path / "out.jsonl"
    summary = predict_dataset([fixtures / "quadratic.png", tmp_path / "missing.png"], out, num_actors=1,
                              num_cpus_per_actor=0.5)
    assert (summary.num_read, summary.num_failed, summary.num_skipped) == (1, 1, 0)
    first, second = read_jsonl(out)
    assert first["latex"] and "no such file" in second["error"]


def test_an_unsure_reading_keeps_its_reason_through_ray_data():
    """RecognizeBatch's columns back to a line: "unsure" kept when set, no None fields written."""
    from mathlens.jobs.ray_batch import _record

    row = {"path": "a.png", "latex": "x", "confidence": 0.2, "unsure": "low confidence", "error": None}
    assert _record(row) == {"path": "a.png", "latex": "x", "confidence": 0.2, "unsure": "low confidence"}
    assert _record({**row, "unsure": None}) == {"path": "a.png", "latex": "x", "confidence": 0.2}
    assert _record({**row, "latex": None, "error": "empty file"}) == {"path": "a.png", "error": "empty file"}
