"""Batch job output: the records, the resume rule (the last line of a path is its result, failed
inputs are tried again) and the CSV columns; one job with the real shipped model."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from mathlens.errors import MathlensError
from mathlens.inference.predictor import Prediction
from mathlens.jobs.batch import (CSV_FIELDS, JobSettings, JobSummary, ResultWriter, done_paths, latest_records,
                                 result_record, run_to_file)


def test_a_record_says_unsure_only_when_the_reading_is_doubted():
    doubted = result_record(Path("a.png"), Prediction("x", 0.31, ("x",), unsure="low confidence"))
    assert doubted == {"path": "a.png", "latex": "x", "confidence": 0.31, "unsure": "low confidence"}
    assert result_record(Path("b.png"), Prediction("y", 0.9, ("y",))) == {"path": "b.png", "latex": "y",
                                                                          "confidence": 0.9}
    assert result_record(Path("c.png"), Prediction("", 0.0, error="empty file")) == {"path": "c.png",
                                                                                    "error": "empty file"}


def test_the_last_line_of_a_path_is_its_result_and_failures_are_not_done(tmp_path):
    out = tmp_path / "r.jsonl"
    lines = [{"path": "a.png", "latex": "a", "confidence": 0.9},
             {"path": "b.png", "error": "empty file"},
             {"path": "c.png", "error": "no such file: c.png"},
             {"path": "c.png", "latex": "c", "confidence": 0.8},  # tried again after it was fixed
             ["not", "a", "record"]]
    out.write_text("".join(json.dumps(line) + "\n" for line in lines) + "not json\n" + '{"path": "d.png", "lat')
    assert latest_records(out)["c.png"]["latex"] == "c" and set(latest_records(out)) == {"a.png", "b.png", "c.png"}
    assert done_paths(out) == {"a.png", "c.png"}  # b failed: a rerun tries it again; d's line is torn
    assert done_paths(tmp_path / "missing.jsonl") == set()


def test_csv_has_an_unsure_column_and_the_same_resume_rule(tmp_path):
    out = tmp_path / "r.csv"
    writer = ResultWriter(out)
    writer.write([{"path": "a.png", "latex": "a", "confidence": 0.9, "unsure": "views disagree"},
                  {"path": "b.png", "error": "empty file"}, {"path": "c.png", "latex": "c", "confidence": 0.8}])
    writer.write([{"path": "b.png", "latex": "b", "confidence": 0.7}])
    writer.close()
    rows = list(csv.DictReader(out.open(newline="")))
    assert tuple(rows[0]) == CSV_FIELDS == ("path", "latex", "confidence", "unsure", "error")
    assert rows[0]["unsure"] == "views disagree" and rows[1]["error"] == "empty file" and rows[2]["unsure"] == ""
    assert done_paths(out) == {"a.png", "b.png", "c.png"}
    ResultWriter(out).write([{"path": "c.png", "error": "gone"}])
    assert done_paths(out) == {"a.png", "b.png"} and latest_records(out)["c.png"] == {"path": "c.png", "error": "gone"}


def test_a_csv_from_before_the_unsure_column_is_brought_up_to_date(tmp_path):
    out = tmp_path / "old.csv"
    out.write_text("path,latex,confidence,error\r\na.png,a,0.9,\r\nb.png,,,empty file\r\n", newline="")
    assert done_paths(out) == {"a.png"}
    writer = ResultWriter(out)
    writer.write([{"path": "b.png", "latex": "b", "confidence": 0.5, "unsure": "low confidence"}])
    writer.close()
    assert out.read_text().splitlines() == [
        "path,latex,confidence,unsure,error", "a.png,a,0.9,,", "b.png,,,,empty file", "b.png,b,0.5,low confidence,"]
    assert done_paths(out) == {"a.png", "b.png"}


def test_a_csv_that_is_not_mathlens_results_is_left_alone(tmp_path):
    out = tmp_path / "sales.csv"
    out.write_text("region,total\nnorth,3\n")
    with pytest.raises(MathlensError, match="region, total, not mathlens results"):
        ResultWriter(out)
    assert out.read_text() == "region,total\nnorth,3\n"


def test_a_rerun_tries_the_failed_inputs_again_with_the_real_model(fixtures, tmp_path):
    good, fixed = tmp_path / "good.png", tmp_path / "fixed.png"
    shutil.copy(fixtures / "quadratic.png", good)
    fixed.write_bytes(b"")  # an upload that had not finished
    out = tmp_path / "r.jsonl"
    settings = JobSettings(threads=1, views=False)
    assert run_to_file([good, fixed], out, settings) == JobSummary(1, 1, 0)
    assert run_to_file([good, fixed], out, settings) == JobSummary(0, 1, 1)  # still empty: tried, failed again
    shutil.copy(fixtures / "quadratic.png", fixed)
    assert run_to_file([good, fixed], out, settings) == JobSummary(1, 0, 1)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["path"] for r in records] == [str(good), str(fixed), str(fixed), str(fixed)]
    assert "empty" in records[1]["error"] and latest_records(out)[str(fixed)]["latex"] == records[0]["latex"]
    assert run_to_file([good, fixed], out, settings) == JobSummary(0, 0, 2)
    assert JobSummary(3, 2, 5).describe(out) == f"3 read, 2 failed, 5 already in {out}"
