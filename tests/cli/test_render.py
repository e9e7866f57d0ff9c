"""`mathlens render` from the command line: a font subset on a tiny corpus."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.texlive


def test_render_uses_only_the_fonts_asked_for(tmp_path, write_corpus):
    corpus = write_corpus([f"a_{{{i}}}+b^{{{i}}}" for i in range(6)])
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "mathlens.cli.main", "render", "--corpus", str(corpus), "--out", str(out),
         "--fonts", "libertine", "biolinum", "--workers", "1", "--val", str(tmp_path / "no-val")],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(records) == 6
    assert {r["font"] for r in records} <= {"libertine", "biolinum"}
    assert all((out / r["image"]).stat().st_size > 0 for r in records)


def test_render_rejects_an_unknown_font(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mathlens.cli.main", "render", "--fonts", "comic"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "invalid choice: 'comic'" in result.stderr


def test_render_ink_from_corpus_writes_a_share_of_the_corpus_and_every_caption(tmp_path, write_corpus, write_tar,
                                                                              fixtures):
    archive = write_tar({"train/a.inkml": (fixtures / "inkml" / "b_x_plus_2_eq_3.crohme.inkml").read_bytes()})
    (tmp_path / "captions.txt").write_text("a\tb x + 2 = 3\n")
    (tmp_path / "dictionary.txt").write_text("".join(f"{t}\t{i}\n" for i, t in enumerate("bx23+=")))
    corpus = write_corpus(["x+2", "3b", "2=x", "b+3"])
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "mathlens.cli.main", "render-ink", "--from-corpus", "--limit", "2",
         "--corpus", str(corpus), "--inkml-tar", str(archive),
         "--captions", str(tmp_path / "captions.txt"), "--out", str(out)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    captions = sorted(" ".join(r["tokens"]) for r in records)
    assert len(records) == 3 and "b x + 2 = 3" in captions
    assert all(r["source"] == "crohme_layout" and (out / r["image"]).stat().st_size > 0 for r in records)
