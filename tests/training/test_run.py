"""Training end to end on a tiny rendered set: a fast run, a resume, and export of the result."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from mathlens import checkpoint
from mathlens.config import DataConfig, SourceConfig, TrainConfig
from mathlens.tokenizer.vocab import Vocab
from mathlens.training.run import resolve_precision, run_training

pytestmark = [pytest.mark.texlive, pytest.mark.train]


@pytest.fixture
def train_cfg(tmp_path, rendered_dir, tiny_vocab) -> TrainConfig:
    vocab_path = tmp_path / "vocab.json"
    tiny_vocab.save(vocab_path)
    manifest = rendered_dir / "manifest.jsonl"
    data = DataConfig(sources=(SourceConfig("tiny", "manifest", path=manifest),), val_manifest=manifest, val_limit=4,
                      max_batch_size=8,
                      max_tokens_per_batch=400, num_workers=0)
    return TrainConfig(variant="tiny", vocab_path=vocab_path, out_dir=tmp_path / "run", max_steps=3,
                       warmup_steps=1, val_every_steps=2, precision="32-true", accelerator="cpu", devices=1,
                       log_every_steps=1, data=data)


def _global_step(path: Path) -> int:
    return torch.load(path, map_location="cpu", weights_only=False)["global_step"]


def test_train_then_resume_continues_from_the_last_step(train_cfg):
    last = run_training(replace(train_cfg, decay_steps=1))
    assert _global_step(last) == 3
    assert (train_cfg.out_dir / "checkpoints" / "best.ckpt").exists()  # validation ran and was scored
    assert _global_step(train_cfg.out_dir / "checkpoints" / "stable.ckpt") == 2  # before the decay
    last = run_training(replace(train_cfg, max_steps=5))  # as after an interruption
    assert _global_step(last) == 5


def test_a_stable_checkpoint_copied_to_a_new_run_is_resumed_and_kept_up_to_date(train_cfg, tmp_path):
    run_training(replace(train_cfg, decay_steps=1))
    branch = tmp_path / "branch" / "checkpoints"
    branch.mkdir(parents=True)
    (branch / "last.ckpt").write_bytes((train_cfg.out_dir / "checkpoints" / "stable.ckpt").read_bytes())
    cfg = replace(train_cfg, out_dir=branch.parent, max_steps=4, checkpoint_every_minutes=0)  # save every step
    assert _global_step(run_training(cfg)) == 4
    assert sorted(p.name for p in branch.glob("last*.ckpt")) == ["last.ckpt"]


def test_lightning_checkpoint_converts_and_seeds_a_new_run(train_cfg, tmp_path):
    last = run_training(replace(train_cfg, count_loss_weight=0.1))  # with the training-only counting head
    assert "counting.proj.weight" in torch.load(last, map_location="cpu", weights_only=False)["state_dict"]
    metrics = next((train_cfg.out_dir / "logs").rglob("metrics.csv")).read_text()
    assert "train/count_loss" in metrics.splitlines()[0]
    ckpt = checkpoint.load(last)  # Lightning .ckpt -> mathlens checkpoint, the network alone
    assert not any(key.startswith("counting") for key in ckpt.state_dict)
    assert ckpt.vocab == Vocab.load(train_cfg.vocab_path)
    shipped = tmp_path / "shipped.pt"
    checkpoint.save(ckpt, shipped, half=True)
    second = replace(train_cfg, out_dir=tmp_path / "second", init_from=shipped, max_steps=1)
    assert _global_step(run_training(second)) == 1


@pytest.mark.parametrize("flags, expected", [("fpu avx2 avx512f avx512_bf16 avx512_vnni", "bf16-mixed"),
                                             ("fpu avx2 amx_bf16 amx_tile", "bf16-mixed"),
                                             ("fpu avx2 avx512f avx512_vnni", "32-true")])
def test_auto_precision_takes_bf16_only_where_the_cpu_has_it(tmp_path, flags, expected):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert resolve_precision("auto", "cpu", cpuinfo) == expected
    assert resolve_precision("32-true", "cpu", cpuinfo) == "32-true"  # an explicit choice stands


def test_a_bidirectional_run_learns_both_readings_and_says_so(train_cfg):
    last = run_training(replace(train_cfg, r2l_loss_weight=0.5, max_steps=2))
    metrics = next((train_cfg.out_dir / "logs").rglob("metrics.csv")).read_text()
    assert "train/r2l_loss" in metrics.splitlines()[0]
    assert checkpoint.load(last).model_config.decoder.right_to_left  # exports carry it to beam search
