"""`mathlens batch --backend vlm` on a real local Ray cluster: a Ray Data actor holds the tiny VLM."""

from __future__ import annotations

import json
import shutil

import pytest

from mathlens.cli.main import main

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_batch_reads_with_the_vlm_on_ray_actors(tiny_vlm_dir, fixtures, tmp_path, monkeypatch, capsys):
    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")  # no network
    images = tmp_path / "in"
    images.mkdir()
    shutil.copy(fixtures / "quadratic.png", images / "a.png")
    shutil.copy(fixtures / "inkml" / "one_plus_one.crohme.inkml", images / "b.inkml")
    (images / "c.png").write_bytes(b"not a picture")
    out = tmp_path / "out.jsonl"
    args = ["batch", str(images), "--output", str(out), "--actors", "1", "--cpus-per-actor", "0.5", "--beam", "1",
            "--backend", "vlm", "--model", str(tiny_vlm_dir), "--vlm-engine", "transformers", "--max-new-tokens", "8"]
    assert main(args) == 2  # c.png failed, as with the small model
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["path"] for r in records] == [str(images / n) for n in ("a.png", "b.inkml", "c.png")]
    assert records[2] == {"path": str(images / "c.png"), "error": "not a recognised image format"}
    assert all(set(r) == {"path", "latex", "confidence"} and 0.0 < r["confidence"] <= 1.0 for r in records[:2])
    assert f"mathlens: 2 read, 1 failed, 0 already in {out} (1 actor(s)" in capsys.readouterr().err
