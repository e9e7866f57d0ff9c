"""`mathlens vlm-data`: Uni-MuMER's four tasks as LLaMA-Factory datasets, checked against golden files.

The sources are the real fixtures (two pictures with labels.tsv, CROHME and MathWriting InkML);
the golden error-driven file comes from readings the shipped model made of them
(tests/fixtures/vlm/readings.jsonl), copied in as the cache so the test does not hang on
numerics; `test_cli_reads_with_the_shipped_model` runs the model itself.
Regenerate the goldens after a deliberate change: `MATHLENS_UPDATE_GOLDEN=1 pytest tests/vlm/test_data.py`.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from mathlens.cli.main import main
from mathlens.errors import MathlensError
from mathlens.vlm.answers import reading_errors, symbol_counts, tree_lines
from mathlens.vlm.data import VlmDataConfig, build_vlm_data
from mathlens.vlm.labelled import read_sources
from mathlens.vlm.prompts import TASKS

FIXTURES = Path(__file__).parent.parent / "fixtures"
GOLDEN = FIXTURES / "vlm"
SOURCES = [FIXTURES / "eval", FIXTURES / "inkml"]


def _build(out: Path, *extra: str) -> int:
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(GOLDEN / "readings.jsonl", out / "readings.jsonl")
    return main(["-q", "vlm-data", *map(str, SOURCES), "--out", str(out), "--name", "fx", *extra])


@pytest.mark.parametrize("task", TASKS)
def test_each_task_matches_its_golden_file(tmp_path, task):
    assert _build(tmp_path / "out") == 0
    written = json.loads((tmp_path / "out" / f"fx_{task}.json").read_text(encoding="utf-8"))
    if os.environ.get("MATHLENS_UPDATE_GOLDEN"):
        (GOLDEN / f"fx_{task}.json").write_text(json.dumps(written, ensure_ascii=False, indent=1) + "\n")
    assert written == json.loads((GOLDEN / f"fx_{task}.json").read_text(encoding="utf-8"))


def test_dataset_info_names_one_sharegpt_file_per_task_with_relative_images(tmp_path):
    out = tmp_path / "out"
    (out).mkdir()
    (out / "dataset_info.json").write_text(json.dumps({"mllm_demo": {"file_name": "mllm_demo.json"}}))
    assert _build(out) == 0
    info = json.loads((out / "dataset_info.json").read_text())
    assert info["mllm_demo"] == {"file_name": "mllm_demo.json"}  # someone else's entry is kept
    for task in TASKS:
        entry = info[f"fx_{task}"]
        assert entry["formatting"] == "sharegpt" and entry["columns"] == {"messages": "messages", "images": "images"}
        assert entry["tags"] == {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                                 "assistant_tag": "assistant"}
        for example in json.loads((out / entry["file_name"]).read_text()):
            user, assistant = example["messages"]
            assert (user["role"], assistant["role"]) == ("user", "assistant")
            assert user["content"].count("<image>") == len(example["images"]) == 1
            image = example["images"][0]
            assert not Path(image).is_absolute() and Image.open(out / image).size[1] >= 20
    # 5 of the 7 fixtures are labelled sets' items (an SVG and an out-of-range InkML are refused)
    assert len(json.loads((out / "fx_vanilla.json").read_text())) == 5


def test_error_driven_examples_pair_each_misreading_with_its_correction(tmp_path):
    assert _build(tmp_path / "out") == 0
    examples = json.loads((tmp_path / "out" / "fx_error_driven.json").read_text())
    vanilla = {e["images"][0]: e["messages"][1]["content"] for e in
               json.loads((tmp_path / "out" / "fx_vanilla.json").read_text())}
    assert len(examples) == 4  # two of the five read wrong: a finding and a fixing example each
    for find, fix in zip(examples[::2], examples[1::2]):
        truth = vanilla[find["images"][0]]
        assert find["images"] == fix["images"] and fix["messages"][1]["content"] == truth
        assert find["messages"][1]["content"].splitlines()[-1] == truth
        reading = find["messages"][0]["content"].splitlines()[1]
        assert reading != truth and reading in fix["messages"][0]["content"]


def test_cli_reads_with_the_shipped_model_and_resumes(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert main(["-q", "vlm-data", str(FIXTURES / "inkml"), "--out", str(out), "--tasks", "error_driven"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"] == 3 and report["examples"] == {"error_driven": 2 * report["misread"]}
    rows = [json.loads(line) for line in (out / "readings.jsonl").read_text().splitlines()]
    assert [r["key"] for r in rows] == ["inkml/b_x_plus_2_eq_3.crohme", "inkml/one_plus_one.crohme",
                                        "inkml/x_equals_0.mathwriting"]
    assert rows[1]["reading"] == ["1", "+", "1"]  # the shipped model reads the plain one right

    def no_model(*args, **kwargs):
        raise AssertionError("a cached reading was read again")

    monkeypatch.setattr("mathlens.api.Recognizer", no_model)
    assert main(["-q", "vlm-data", str(FIXTURES / "inkml"), "--out", str(out), "--tasks", "error_driven"]) == 0
    assert json.loads(capsys.readouterr().out)["misread"] == report["misread"]


def test_a_path_that_is_no_labelled_set_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "pictures").mkdir()
    assert main(["vlm-data", str(tmp_path / "pictures"), "--out", str(tmp_path / "out")]) == 2
    assert "not a labelled set" in capsys.readouterr().err
    assert main(["vlm-data", str(FIXTURES / "eval"), "--out", str(tmp_path / "out"), "--beam", "0"]) == 2
    assert "beam size is at least 1" in capsys.readouterr().err
    with pytest.raises(MathlensError, match="no such file"):
        read_sources([tmp_path / "missing"])


def test_crohme_training_package_im2latex_split_and_manifest_are_read(tmp_path):
    crohme = tmp_path / "crohme"
    crohme.mkdir()
    with tarfile.open(crohme / "train_inkml.tar.gz", "w:gz") as tar:
        tar.add(FIXTURES / "inkml" / "b_x_plus_2_eq_3.crohme.inkml", "TrainINKML/HAMEX/bx.inkml")
        tar.add(FIXTURES / "inkml" / "one_plus_one.crohme.inkml", "TrainINKML/KAIST/uncaptioned.inkml")
    (crohme / "train_captions.txt").write_text("bx\t\\sum _ { i } b x\n")  # captions win over the InkML truth
    split = tmp_path / "val"
    (split / "images").mkdir(parents=True)
    shutil.copyfile(FIXTURES / "quadratic.png", split / "images" / "q.png")
    (split / "formulas.norm.txt").write_text("x ^ 2\n")
    (split / "matching.txt").write_text("q.png 0\n")
    manifest = tmp_path / "rendered" / "manifest.jsonl"
    manifest.parent.mkdir()
    shutil.copyfile(FIXTURES / "quadratic.png", manifest.parent / "a.png")
    manifest.write_text(json.dumps({"image": "a.png", "tokens": ["a", "^", "2"], "dpi": 160}) + "\n")
    items = read_sources([crohme, split, manifest])
    assert [(i.key, " ".join(i.tokens), i.kind) for i in items] == [
        ("crohme/bx", "\\sum \\limits _ { i } b x", "handwritten"),  # as the ink training sources label it
        ("val/q", "x ^ { 2 }", "printed"), ("manifest/a", "a ^ { 2 }", "printed")]
    assert {i.kind for i in read_sources([crohme, split], "printed")} == {"printed"}  # --kind says it for all
    archive = tmp_path / "ink.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(FIXTURES / "inkml" / "one_plus_one.crohme.inkml", "a/one.inkml")
    assert [(i.key, i.tokens) for i in read_sources([archive])] == [("ink/one", ("1", "+", "1"))]  # its truth
    report = build_vlm_data(items, VlmDataConfig(tmp_path / "out", tasks=("vanilla",)))
    assert report.examples == {"vanilla": 3} and "readings" not in report.seconds  # no model run asked for
    assert Image.open(tmp_path / "out" / "images" / "crohme" / "bx.png").mode == "L"


def test_the_tree_is_uni_mumers_for_its_own_example():
    """BFlameSwift/Uni-MuMER preprocess/examples/unimumer_tree/sample_tree.json, first record."""
    assert "\n".join(tree_lines("\\frac { a ^ { 2 } + 1 } { b }".split())) == \
        "\\frac\n\ta (above)\n\t\t2 (sup)\n\t+ (right)\n\t1 (right)\n\tb (below)"


def test_tree_roots_limits_rows_and_accents():
    tokens = "\\sqrt [ 3 ] { x } \\sum \\limits _ { i } \\begin{matrix} a & b \\\\ c \\end{matrix} \\hat { y }".split()
    assert tree_lines(tokens) == [
        "\\sqrt", "\t3 (index)", "\tx (inside)", "\\sum (right)", "\ti (below)", "\\begin{matrix} (right)",
        "\ta (inside)", "\t& (right)", "\tb (right)", "\tc (nextline)", "\\hat (right)", "\ty (inside)"]


def test_counts_leave_out_structure():
    tokens = "\\sqrt [ 3 ] { x } + x _ { 1 } ^ { 2 } \\left ( a \\right ) \\begin{cases} b \\end{cases}".split()
    assert symbol_counts(tokens) == [("\\sqrt", 1), ("3", 1), ("x", 2), ("+", 1), ("1", 1), ("2", 1), ("(", 1),
                                     ("a", 1), (")", 1), ("\\begin{cases}", 1), ("b", 1)]


def test_reading_errors_name_wrong_extra_and_missing_symbols():
    assert reading_errors("x + 2 = 3 3".split(), "( x \\times 2 = 3".split()) == [
        "missing: ( at the start", "wrong: + -> \\times", "extra: 3"]
    assert reading_errors("a b".split(), "a c b".split()) == ["missing: c after a"]


def test_the_command_imports_no_torch_and_no_model_runtime():
    code = ("import sys, mathlens.cli.vlm_data, mathlens.vlm.data, mathlens.vlm.labelled; "
            "print(sorted(m for m in ('torch', 'onnxruntime', 'transformers') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
