"""`mathlens train` from the command line: a two-step run on the tiny rendered set, and its allocator."""

import subprocess
import sys

import pytest
import yaml

from mathlens.cli.train import JEMALLOC

pytestmark = [pytest.mark.texlive, pytest.mark.train, pytest.mark.slow]
needs_jemalloc = pytest.mark.skipif(not any(p.exists() for p in JEMALLOC),
                                    reason="libjemalloc2 not installed (scripts/install-deps.sh)")


@pytest.fixture
def config(tmp_path, rendered_dir, tiny_vocab):
    tiny_vocab.save(tmp_path / "vocab.json")
    manifest = str(rendered_dir / "manifest.jsonl")
    cfg = {"variant": "tiny", "vocab_path": str(tmp_path / "vocab.json"), "out_dir": str(tmp_path / "run"),
           "max_steps": 2, "warmup_steps": 1, "val_every_steps": 100, "precision": "32-true",
           "data": {"sources": [{"name": "tiny", "kind": "manifest", "path": manifest}],
                    "val_manifest": manifest, "val_limit": 2,
                    "max_batch_size": 8, "max_tokens_per_batch": 400, "num_workers": 0}}
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _train(*args: str, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mathlens.cli.main", *flags, "train", *args],
                          capture_output=True, text=True, timeout=600)


@needs_jemalloc
def test_training_runs_on_jemalloc_unless_told_not_to(config, tmp_path):
    result = _train("--config", str(config), "--set", "max_steps=2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "allocator: jemalloc" in result.stderr
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").exists()
    result = _train("--config", str(config), "--set", "max_steps=3", "--no-jemalloc")  # resumes, glibc's malloc
    assert result.returncode == 0, result.stderr[-2000:]
    assert "allocator: jemalloc" not in result.stderr


@needs_jemalloc
def test_the_restart_on_jemalloc_keeps_the_global_options(config, tmp_path):
    result = _train("--config", str(config), flags=("-q",))
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").exists()
    assert " INFO mathlens" not in result.stderr  # -q reached the restarted process
