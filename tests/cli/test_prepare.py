"""`mathlens prepare`: a config's sources built from tiny real inputs, once, with their options kept."""

import json
import subprocess
import sys

import pytest
import yaml

pytestmark = [pytest.mark.texlive, pytest.mark.slow]


@pytest.fixture
def crohme_dir(tmp_path, write_tar, fixtures):
    """A CROHME training package in the shared layout, with one expression."""
    d = tmp_path / "crohme"
    d.mkdir()
    archive = write_tar({"train/a.inkml": (fixtures / "inkml" / "b_x_plus_2_eq_3.crohme.inkml").read_bytes()})
    archive.rename(d / "train_inkml.tar.gz")
    (d / "train_captions.txt").write_text("a\tb x + 2 = 3\n")
    (d / "dictionary.txt").write_text("".join(f"{t}\t{i}\n" for i, t in enumerate("bx23+=")))
    return d


def write_config(tmp_path, data: dict) -> str:
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump({"variant": "tiny", "out_dir": str(tmp_path / "run"), "data": data}))
    return str(path)


def prepare(config: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mathlens.cli.main", "prepare", "--config", config, *args],
                          capture_output=True, text=True, timeout=600)


def manifest(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_prepare_builds_every_source_once_with_its_options(tmp_path, write_corpus, crohme_dir):
    corpus = write_corpus([f"a_{{{i}}}+b^{{{i}}}" for i in range(6)] + ["x+2", "3b", "2=x", "b+3"])
    root = tmp_path / "render"
    config = write_config(tmp_path, {
        "corpus": str(corpus), "crohme_dir": str(crohme_dir), "data_root": str(root),
        "sources": [{"name": "lib", "kind": "tex", "fonts": ["libertine", "biolinum"], "seed": 3},
                    {"name": "ink", "kind": "ink", "variants": 2, "weight": 2},
                    {"name": "layout", "kind": "ink_layout", "limit": 2}]})
    result = prepare(config, "--workers", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    lib, ink, layout = (manifest(root / name / "manifest.jsonl") for name in ("lib", "ink", "layout"))
    assert len(lib) >= 6 and {r["font"] for r in lib} <= {"libertine", "biolinum"}  # formulas under 3 tokens are left out
    assert len(ink) == 2 and all(" ".join(r["tokens"]) == "b x + 2 = 3" for r in ink)
    assert len(layout) == 3  # two corpus formulas in CROHME's symbols, and the training caption
    assert all((root / "lib" / r["image"]).stat().st_size > 0 for r in lib)
    assert json.loads((root / "lib" / "recipe.json").read_text())["fonts"] == ["libertine", "biolinum"]

    again = prepare(config)  # nothing missing: nothing rebuilt
    assert again.returncode == 0 and again.stdout == ""

    changed = (tmp_path / "train.yaml").read_text().replace("seed: 3", "seed: 4")
    (tmp_path / "train.yaml").write_text(changed)
    refused = prepare(config)
    assert refused.returncode == 2 and "built with other options" in refused.stderr


def test_prepare_refuses_options_a_kind_does_not_use(tmp_path):
    config = write_config(tmp_path, {"data_root": str(tmp_path / "r"),
                                     "sources": [{"name": "ink", "kind": "ink", "fonts": ["euler"]}]})
    result = prepare(config)
    assert result.returncode == 2 and "does not use: fonts" in result.stderr


def test_prepare_says_which_input_is_missing(tmp_path):
    config = write_config(tmp_path, {"data_root": str(tmp_path / "r"), "sources": [{"name": "p", "kind": "tex"}]})
    result = prepare(config)
    assert result.returncode == 2 and "needs data.corpus" in result.stderr
    assert not (tmp_path / "r" / "p" / "manifest.jsonl").exists()
