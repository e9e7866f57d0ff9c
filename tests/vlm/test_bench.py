"""`mathlens bench`: the published folder layouts, the files Uni-MuMER's eval writes, eval's figures."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from mathlens.bench.sets import find_sets, locate
from mathlens.cli.main import main
from mathlens.errors import InvalidInputError
from mathlens.metrics.evaluate import canonical
from mathlens.metrics.text import edit_distance

EULER, SUM = "e^{i\\pi}+1=0", "\\sum_{n=1}^{\\infty}\\frac{1}{n^{2}}=\\frac{\\pi^{2}}{6}"
FAST = ["--beam", "1", "--single-view"]


def copy_pictures(fixtures: Path, folder: Path, names: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for source, target in names.items():
        shutil.copy(fixtures / "eval" / source, folder / target)


@pytest.fixture
def comer_set(fixtures, tmp_path) -> Path:
    """CoMER's layout (CROHME 2014/2016/2019, MNE N1-N3): img/ + caption.txt, names without extension."""
    root = tmp_path / "CROHME" / "2014"
    copy_pictures(fixtures, root / "img", {"euler.png": "18_em_0.bmp", "sum.png": "18_em_1.bmp"})
    (root / "caption.txt").write_text(f"18_em_0\t{EULER}\n18_em_1\t{SUM}\n", encoding="utf-8")
    return root


def test_layouts_are_recognised_as_published(fixtures, tmp_path, comer_set):
    # Uni-MuMER's data/CROHME: year folders with images/ + caption.txt, and prompts/*.json naming the sets
    uni = tmp_path / "uni" / "CROHME"
    copy_pictures(fixtures, uni / "2014" / "images", {"euler.png": "514_em_341.jpg"})
    (uni / "2014" / "caption.txt").write_text(f"514_em_341\t{EULER}\n", encoding="utf-8")
    (uni / "prompts").mkdir()
    record = {"images": ["./data/CROHME/2014/images/514_em_341.jpg"],
              "messages": [{"from": "human", "value": "<image>I have an image ..."}, {"from": "gpt", "value": EULER}]}
    (uni / "prompts" / "crohme_2014.json").write_text(json.dumps([record]), encoding="utf-8")
    # HME100K: test_images/ + test_labels.txt, names with their extension
    hme = tmp_path / "HME100K"
    copy_pictures(fixtures, hme / "test_images", {"sum.png": "test_0.jpg"})
    (hme / "test_labels.txt").write_text(f"test_0.jpg\t{SUM}\n", encoding="utf-8")
    # MathWriting: a split folder of InkML files carrying normalizedLabel
    ink = tmp_path / "mathwriting-2024" / "test"
    ink.mkdir(parents=True)
    shutil.copy(fixtures / "inkml" / "x_equals_0.mathwriting.inkml", ink / "00a1.inkml")

    found = {s.name: s for folder in (comer_set.parent, uni, hme, ink.parent) for s in find_sets(folder)}
    assert {name: (s.layout, len(s.samples)) for name, s in found.items()} == {
        "CROHME_2014": ("caption.txt + img/", 2), "crohme_2014": ("uni-mumer prompts", 1),
        "HME100K_test": ("test_labels.txt + test_images/", 1), "mathwriting-2024_test": ("labelled InkML", 1)}
    assert [s.image_path.name for s in found["CROHME_2014"].samples] == ["18_em_0.bmp", "18_em_1.bmp"]
    assert found["crohme_2014"].samples[0].image_path == uni / "2014" / "images" / "514_em_341.jpg"
    assert found["crohme_2014"].samples[0].reference == EULER
    assert found["HME100K_test"].samples[0].image_path.is_file()
    assert canonical(found["mathwriting-2024_test"].samples[0].reference) == ["x", "=", "0"]


def test_a_folder_without_any_set_is_refused(tmp_path):
    (tmp_path / "empty" / "deeper").mkdir(parents=True)
    with pytest.raises(InvalidInputError, match="no benchmark set"):
        find_sets(tmp_path / "empty")
    with pytest.raises(InvalidInputError, match="not a folder"):
        find_sets(tmp_path / "missing")


def test_recorded_prompt_paths_are_found_under_the_folder(tmp_path):
    crohme = tmp_path / "CROHME"
    assert locate("./data/CROHME/2019/images/a.jpg", crohme) == crohme / "2019" / "images" / "a.jpg"
    assert locate("images/a.jpg", tmp_path / "X") == tmp_path / "X" / "images" / "a.jpg"


def test_bench_gives_evals_figures_and_uni_mumers_files(fixtures, tmp_path, capsys):
    assert main(["eval", str(fixtures / "eval"), "--out", str(tmp_path / "eval"), *FAST]) == 0
    capsys.readouterr()
    assert main(["bench", str(fixtures / "eval"), "--out", str(tmp_path / "bench"), *FAST]) == 0
    table = capsys.readouterr().out
    drop_time = lambda d: {k: v for k, v in d.items() if k != "seconds"}  # noqa: E731
    eval_scores = json.loads((tmp_path / "eval" / "eval_results.json").read_text())
    bench_scores = json.loads((tmp_path / "bench" / "eval_results.json").read_text())
    assert drop_time(bench_scores) == drop_time(eval_scores)

    pairs = json.loads((tmp_path / "bench" / "eval_pred.json").read_text())
    assert [set(p) for p in pairs] == [{"gt", "pred", "image_path", "img_id"}] * 2
    assert [p["img_id"] for p in pairs] == ["euler", "sum"]
    assert pairs[0]["gt"] == " ".join(canonical(EULER))  # space-separated canonical tokens, as CROHME captions
    # Uni-MuMER's own rule (exact match of whitespace-split tokens) reads the same ExpRate from these files
    exact = sum(edit_distance(p["gt"].split(), p["pred"].split()) == 0 for p in pairs) / len(pairs)
    results = (tmp_path / "bench" / "eval_results.txt").read_text()
    assert re.findall(r"^ExpRate: (\d\.\d{4})$", results, re.M) == [f"{eval_scores['exact_match']:.4f}"]
    assert exact == eval_scores["exact_match"]
    assert "Total Samples: 2" in results and "Exact Match Rate:" in results and "BLEU-4 Score:" in results
    assert "| eval | labels.tsv + eval/ | 2 |" in table
    assert (tmp_path / "bench" / "summary.md").read_text() == table


@pytest.mark.slow
def test_bench_reproduces_eval_on_crohme_2014(datasets, tmp_path, capsys):
    """The shipped model on the first 8 CROHME 2014 bitmaps, with eval's default reading (beam 3, views)."""
    folder = datasets / "crohme" / "test2014"
    assert main(["eval", str(folder), "--out", str(tmp_path / "eval"), "--limit", "8"]) == 0
    assert main(["bench", str(folder), "--out", str(tmp_path / "bench"), "--limit", "8"]) == 0
    capsys.readouterr()
    eval_scores = json.loads((tmp_path / "eval" / "test2014_results.json").read_text())
    bench_scores = json.loads((tmp_path / "bench" / "test2014_results.json").read_text())
    assert {k: v for k, v in bench_scores.items() if k != "seconds"} == \
        {k: v for k, v in eval_scores.items() if k != "seconds"}
    assert f"ExpRate: {eval_scores['exact_match']:.4f}" in (tmp_path / "bench" / "test2014_results.txt").read_text()


def test_bench_runs_the_vlm_and_counts_unreadable_pictures_as_wrong(tiny_vlm_dir, comer_set, tmp_path, capsys):
    (comer_set / "img" / "18_em_1.bmp").write_bytes(b"not a bitmap")
    out = tmp_path / "out"
    assert main(["bench", str(comer_set.parent), "--out", str(out), "--backend", "vlm", "--model", str(tiny_vlm_dir),
                 "--vlm-engine", "transformers", "--max-new-tokens", "8", "--beam", "1"]) == 0
    pairs = json.loads((out / "CROHME_2014_pred.json").read_text())
    assert pairs[1]["pred"] == "" and pairs[1]["error"] == "not a recognised image format"
    assert pairs[0]["gt"] == " ".join(canonical(EULER)) and "error" not in pairs[0]
    lines = [json.loads(line) for line in (out / "CROHME_2014_pred.jsonl").read_text().splitlines()]
    assert lines[0]["error"] is None and lines[0]["latex"] == lines[0]["latex"].strip()
    assert "ExpRate: 0.0000" in (out / "CROHME_2014_results.txt").read_text()  # random weights read nothing right
    assert "| CROHME_2014 | caption.txt + img/ | 2 | 0.00 |" in capsys.readouterr().out


def test_list_shows_the_sets_and_reads_nothing(comer_set, tmp_path, capsys):
    assert main(["bench", str(comer_set), "--out", str(tmp_path / "o"), "--list"]) == 0
    assert capsys.readouterr().out == "2014\tcaption.txt + img/\t2\n"
    assert not (tmp_path / "o").exists()
