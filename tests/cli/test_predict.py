"""`mathlens predict` end to end with the shipped model, in a real subprocess."""

import json
import subprocess
import sys

import pytest
from PIL import Image

from mathlens.tokenizer.normalize import normalize


def mathlens(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mathlens.cli.main", *args], capture_output=True, text=True,
                          timeout=300)


def test_predict_prints_compact_balanced_latex(fixtures):
    result = mathlens("predict", str(fixtures / "quadratic.png"))
    assert result.returncode == 0, result.stderr
    latex = result.stdout.strip()
    assert latex and " { " not in latex
    normalize(latex)  # parses: braces are balanced


def test_jsonl_reports_every_input_and_goes_on_after_bad_ones(fixtures, tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("this is not an image")
    good = fixtures / "quadratic.png"
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:200])
    Image.new("RGB", (300, 80), "white").save(tmp_path / "blank.png")
    Image.new("1", (20000, 20000), 1).save(tmp_path / "huge.png")
    inputs = [tmp_path / "empty.png", tmp_path / "text.png", truncated, tmp_path / "blank.png",
              tmp_path / "huge.png", good]
    result = mathlens("predict", "--jsonl", *map(str, inputs))
    assert result.returncode == 2  # some inputs failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["path"] for line in lines] == [str(p) for p in inputs]
    assert all("error" in line for line in lines[:5])
    assert "empty" in lines[0]["error"] and "too large" in lines[4]["error"] and "blank" in lines[3]["error"]
    assert lines[5]["latex"] and 0 < lines[5]["confidence"] <= 1


def test_directories_are_walked_and_beam_search_works(fixtures, tmp_path):
    images, empty = tmp_path / "images", tmp_path / "empty"
    images.mkdir(), empty.mkdir()
    for name in ("a.png", "b.jpg"):
        Image.open(fixtures / "quadratic.png").convert("RGB").save(images / name)
    (images / "notes.txt").write_text("ignored")
    result = mathlens("predict", "--beam", "3", str(images), str(empty))
    assert result.returncode == 0, result.stderr
    rows = result.stdout.strip().splitlines()
    assert [r.split("\t")[0] for r in rows] == [str(images / "a.png"), str(images / "b.jpg")]
    assert f"mathlens: no images or InkML files in {empty}" in result.stderr  # said, though others were read


@pytest.mark.parametrize("output", [[], ["--output", "r.jsonl"]])
def test_paths_with_nothing_to_read_say_so_and_exit_2(tmp_path, output):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("not an input")
    result = mathlens("predict", str(tmp_path / "empty"), str(tmp_path / "notes"), *output)
    assert result.returncode == 2 and result.stdout == ""
    assert f"no images or InkML files in {tmp_path / 'empty'}, {tmp_path / 'notes'}" in result.stderr


def test_single_bad_input_exits_2_with_a_message(tmp_path):
    (tmp_path / "x.png").write_text("nope")
    result = mathlens("predict", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "not a recognised image" in result.stderr


def test_xml_and_absurd_ink_are_named_not_read(fixtures):
    svg, huge = fixtures / "inkml" / "drawing.svg.inkml", fixtures / "inkml" / "huge_coordinates.crohme.inkml"
    result = mathlens("predict", str(svg), str(huge))
    assert result.returncode == 2 and result.stdout == ""
    assert f"mathlens: {svg}: not InkML: the root element is <svg>" in result.stderr
    assert f"mathlens: {huge}: trace 0: coordinate 1e+300 out of range" in result.stderr


def test_an_unsure_reading_is_printed_with_a_warning(capsys):
    from mathlens.cli.predict import _emit

    _emit({"path": "a.png", "latex": "x^{2}", "confidence": 0.2, "unsure": "low confidence"}, False, single=True)
    _emit({"path": "b.png", "latex": "y", "confidence": 0.2, "unsure": "views disagree"}, False, single=False)
    _emit({"path": "c.png", "latex": "z", "confidence": 0.2, "unsure": "views disagree"}, True, single=False)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[:2] == ["x^{2}", "b.png\ty"] and json.loads(lines[2])["unsure"] == "views disagree"
    assert err.splitlines() == ["mathlens: a.png: unsure: low confidence", "mathlens: b.png: unsure: views disagree"]


@pytest.mark.parametrize("name", ["quadratic.png", "euler.png", "gaussian.png", "sum.png",
                                  "handwritten.inkml", "handwritten_photo.jpg"])
def test_the_shipped_model_gives_the_same_answer_from_every_entry_point(name):
    """CLI, Python API and batch API agree, and the output is LaTeX that parses (balanced).

    Accuracy is measured on held-out sets in BENCHMARKS.md, not asserted here.
    """
    from pathlib import Path

    from mathlens import Recognizer

    path = Path(__file__).parents[2] / "examples" / name
    rec = Recognizer()
    single = rec.recognize(path)
    assert rec.recognize_batch([path, path])[1].latex == single.latex
    assert mathlens("predict", str(path)).stdout.strip() == single.latex
    normalize(single.latex)
    assert 0.0 < single.confidence <= 1.0


def test_output_file_resumes_without_redoing_or_losing_results(fixtures, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(5):
        Image.open(fixtures / "quadratic.png").save(images / f"{i}.png")
    (images / "bad.png").write_text("not an image")
    out = tmp_path / "results.jsonl"
    # An interrupted earlier run: two results and a torn line.
    out.write_text(json.dumps({"path": str(images / "0.png"), "latex": "KEEP", "confidence": 0.5}) + "\n"
                   + json.dumps({"path": str(images / "1.png"), "latex": "KEEP", "confidence": 0.5}) + "\n"
                   + '{"path": "' + str(images / "2.png"))
    result = mathlens("predict", str(images), "--output", str(out), "--workers", "2", "--batch-size", "2")
    assert result.returncode == 2, result.stderr  # bad.png failed
    assert f"mathlens: 3 read, 1 failed, 2 already in {out}" in result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["path"] for r in records) == sorted(str(p) for p in images.iterdir())
    assert [r["latex"] for r in records[:2]] == ["KEEP", "KEEP"]  # not redone
    assert [r["path"] for r in records if "error" in r] == [str(images / "bad.png")]
    again = mathlens("predict", str(images), "--output", str(out))
    assert again.returncode == 2 and f"mathlens: 0 read, 1 failed, 5 already in {out}" in again.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 7 and json.loads(lines[-1])["path"] == str(images / "bad.png")  # tried again, appended


def test_a_job_where_every_input_failed_exits_2_and_is_retried(fixtures, tmp_path):
    late, missing = tmp_path / "late.png", tmp_path / "missing.png"
    late.write_bytes(b"")  # still being copied when the job ran
    out = tmp_path / "r.jsonl"
    first = mathlens("predict", str(late), str(missing), "--output", str(out))
    assert first.returncode == 2 and f"mathlens: 0 read, 2 failed, 0 already in {out}" in first.stderr
    late.write_bytes((fixtures / "quadratic.png").read_bytes())
    second = mathlens("predict", str(late), str(missing), "--output", str(out))
    assert second.returncode == 2 and f"mathlens: 1 read, 1 failed, 0 already in {out}" in second.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["path"], "error" in r) for r in records] == [(str(late), True), (str(missing), True),
                                                           (str(late), False), (str(missing), True)]


def test_csv_output(fixtures, tmp_path):
    out = tmp_path / "r.csv"
    result = mathlens("predict", str(fixtures / "quadratic.png"), "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert f"mathlens: 1 read, 0 failed, 0 already in {out}" in result.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "path,latex,confidence,unsure,error" and lines[1].startswith(str(fixtures / "quadratic.png"))


@pytest.mark.parametrize("name", ["inkml/b_x_plus_2_eq_3.crohme.inkml", "quadratic.png"])
def test_single_view_reads_each_input_once_as_the_api_does(fixtures, name):
    from mathlens import Recognizer

    path = fixtures / name
    once = Recognizer(views=False).recognize(path)
    result = mathlens("predict", str(path), "--single-view", "--jsonl")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["latex"] == once.latex and record["confidence"] == once.confidence
    default = json.loads(mathlens("predict", str(path), "--jsonl").stdout)
    assert default["latex"] == Recognizer().recognize(path).latex
