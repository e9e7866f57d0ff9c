"""`mathlens eval` on tiny labelled folders in both layouts it reads."""

import json
import shutil
import subprocess
import sys


def run_eval(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mathlens.cli.main", "eval", *args], capture_output=True,
                          text=True, timeout=300)


def test_eval_writes_predictions_and_scores(fixtures, tmp_path):
    result = run_eval(str(fixtures / "eval"), "--out", str(tmp_path), "--name", "tiny")
    assert result.returncode == 0, result.stderr
    preds = [json.loads(line) for line in (tmp_path / "tiny_pred.jsonl").read_text().splitlines()]
    assert [p["path"].rsplit("/", 1)[-1] for p in preds] == ["euler.png", "sum.png"]
    scores = json.loads((tmp_path / "tiny_results.json").read_text())
    assert scores["num_samples"] == 2
    assert scores["exact_match"] == sum(p["correct"] for p in preds) / 2
    for key in ("within_1", "within_2", "bleu4", "token_edit_distance", "cer"):
        assert 0.0 <= scores[key] <= max(1.0, scores[key])


def test_eval_reads_the_im2latex_layout(fixtures, tmp_path):
    split = tmp_path / "split"
    (split / "images").mkdir(parents=True)
    shutil.copy(fixtures / "eval" / "euler.png", split / "images" / "0.png")
    (split / "formulas.norm.txt").write_text("e ^ { i \\pi } + 1 = 0\n")
    (split / "matching.txt").write_text("0.png 0\n")
    result = run_eval(str(split), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out" / "split_results.json").read_text())["num_samples"] == 1


def test_no_rescore_ranks_beams_by_the_left_to_right_reading(fixtures, both_ways_onnx_dir, tmp_path):
    from mathlens.api import Recognizer

    images = sorted(str(p) for p in (fixtures / "eval").glob("*.png"))
    for flags, rescore in (([], True), (["--no-rescore"], False)):
        name = f"rescore_{rescore}"
        result = run_eval(str(fixtures / "eval"), "--out", str(tmp_path), "--name", name, "--beam", "3",
                          "--model-dir", str(both_ways_onnx_dir), "--threads", "1", *flags)
        assert result.returncode == 0, result.stderr
        got = [json.loads(line) for line in (tmp_path / f"{name}_pred.jsonl").read_text().splitlines()]
        want = Recognizer(both_ways_onnx_dir, beam_size=3, num_threads=1,
                          rescore_right_to_left=rescore).recognize_batch(images)
        assert [g["confidence"] for g in got] == [w.confidence for w in want]
