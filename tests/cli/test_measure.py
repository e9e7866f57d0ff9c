"""`mathlens measure` and `mathlens average` from the command line, with the shipped model and real sets."""

import json
import subprocess
import sys

import pytest


def mathlens(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mathlens.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_measure_scores_the_model_on_each_set_as_eval_does(datasets, tmp_path):
    from mathlens.inference.predictor import default_model_dir

    result = mathlens("measure", str(default_model_dir()), "--datasets", str(datasets), "--out", str(tmp_path / "m"),
                      "--val-dir", str(tmp_path / "val"), "--sets", "crohme2014_bitmaps:12", "im2latex_val:12",
                      "--beam", "1", "--single-view")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| crohme2014_bitmaps12 | 12 |" in result.stdout and "| im2latex_val12 | 12 |" in result.stdout
    measured = json.loads((tmp_path / "m" / "im2latex_val12_results.json").read_text())
    evaluated = mathlens("eval", str(datasets / "im2latex100k" / "val"), "--limit", "12", "--beam", "1",
                         "--single-view", "--out", str(tmp_path / "e"))
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert json.loads(evaluated.stdout)["exact_match"] == measured["exact_match"]


def test_measure_needs_to_know_where_the_datasets_are(tmp_path, monkeypatch):
    monkeypatch.delenv("MATHLENS_DATASETS", raising=False)
    result = mathlens("measure", str(tmp_path), "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "--datasets" in result.stderr


@pytest.mark.train
@pytest.mark.slow
def test_average_writes_a_checkpoint_export_takes(tiny_checkpoint, tmp_path):
    result = mathlens("average", str(tiny_checkpoint), str(tiny_checkpoint), "--out", str(tmp_path / "soup.pt"))
    assert result.returncode == 0, result.stderr[-2000:]
    exported = mathlens("export", str(tmp_path / "soup.pt"), str(tmp_path / "onnx"))
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert (tmp_path / "onnx" / "model.json").exists()
    missing = mathlens("average", str(tmp_path / "nowhere.pt"), "--out", str(tmp_path / "x.pt"))
    assert missing.returncode == 2 and "checkpoint not found" in missing.stderr
