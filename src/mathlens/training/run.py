"""run_training(TrainConfig): the one function the `mathlens train` command calls.

Resumes from `<out_dir>/checkpoints/last.ckpt` when it exists; otherwise starts from
`init_from` (for example the shipped model) or from scratch. Runs unchanged on several GPUs or
machines: set accelerator/devices/num_nodes/strategy in the config (see README, Training).
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from mathlens import checkpoint
from mathlens.config import TrainConfig, to_dict
from mathlens.registry import model_config
from mathlens.tokenizer.vocab import Vocab
from mathlens.training.datamodule import FormulaDataModule
from mathlens.training.lit_module import LitIm2Latex

logger = logging.getLogger(__name__)


class ProgressLog(Callback):
    """A log line every N steps: loss, samples/s and samples seen (what training cost is quoted in)."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.samples = 0
        self._t0 = time.perf_counter()
        self._window = 0

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, outputs, batch, batch_idx: int) -> None:
        self.samples += len(batch)
        self._window += len(batch)
        if trainer.global_step % self.every == 0:
            elapsed = time.perf_counter() - self._t0
            loss = float(outputs["loss"]) if isinstance(outputs, dict) else float(outputs)
            logger.info("step %d loss %.3f  %.1f samples/s  %d samples this run", trainer.global_step, loss,
                        self._window / elapsed, self.samples)
            self._t0, self._window = time.perf_counter(), 0


class SaveBeforeDecay(Callback):
    """`stable.ckpt` at the last step before a warmup-stable-decay run starts decaying.

    A later run resumes it with a larger max_steps to go on at the peak learning rate.
    """

    def __init__(self, path: Path, step: int) -> None:
        self.path, self.step = path, step

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, outputs, batch, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            trainer.save_checkpoint(self.path)


def resolve_precision(precision: str, accelerator: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """`auto` -> bf16 autocast only where the hardware has it: on an AVX2-only CPU it ran more
    than 2x slower than fp32, on one with AVX-512 BF16 forward+backward ran 1.7-2x faster."""
    if precision != "auto":
        return precision
    if accelerator != "cpu" and torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    flags = cpuinfo.read_text().split() if cpuinfo.exists() else []
    return "bf16-mixed" if {"avx512_bf16", "amx_bf16"} & set(flags) else "32-true"


def build_module(cfg: TrainConfig, vocab: Vocab) -> LitIm2Latex:
    model_cfg = model_config(cfg.variant, len(vocab))
    if cfg.r2l_loss_weight > 0:
        model_cfg = replace(model_cfg, decoder=replace(model_cfg.decoder, right_to_left=True))
    lit = LitIm2Latex.create(model_cfg, vocab, lr=cfg.lr, weight_decay=cfg.weight_decay,
                             warmup_steps=cfg.warmup_steps, max_steps=cfg.max_steps,
                             label_smoothing=cfg.label_smoothing, decay_steps=cfg.decay_steps,
                             count_loss_weight=cfg.count_loss_weight, r2l_loss_weight=cfg.r2l_loss_weight,
                             tree_loss_weight=cfg.tree_loss_weight, reward_weight=cfg.reward_weight,
                             reward=to_dict(cfg.reward))
    if cfg.init_from is not None:
        init = checkpoint.load(cfg.init_from)
        if init.vocab != vocab:
            raise ValueError(f"{cfg.init_from} was trained with another vocabulary than "
                             f"{cfg.vocab_path or 'the shipped model'}")
        lit.model.load_state_dict(checkpoint.build_model(init).state_dict())
        logger.info("initialised from %s", cfg.init_from)
    if cfg.decoder_init is not None:
        from mathlens.training.pretrain import init_decoder

        copied = init_decoder(lit.model.decoder, cfg.decoder_init)
        logger.info("decoder started from the LaTeX encoder %s (%d tensors)", cfg.decoder_init, copied)
    return lit


def run_training(cfg: TrainConfig) -> Path:
    """Train (or resume); returns the path of the last Lightning checkpoint."""
    if cfg.out_dir is None:
        raise ValueError("set out_dir: where the run's checkpoints and logs go")
    L.seed_everything(cfg.seed, workers=True)
    vocab = Vocab.load(cfg.vocab_path) if cfg.vocab_path is not None else Vocab.shipped()
    ckpt_dir = cfg.out_dir / "checkpoints"
    last = ckpt_dir / "last.ckpt"
    resume = last if last.exists() else None
    lit = build_module(cfg if resume is None else _without_init(cfg), vocab)
    dm = FormulaDataModule(cfg.data, vocab, lit.model.cfg.preprocess, seed=cfg.seed)
    callbacks = [
        # No version counter: a last.ckpt copied in from another run (a stable.ckpt, say) is
        # overwritten, not left stale beside a last-v1.ckpt that a resume would not find.
        ModelCheckpoint(dirpath=ckpt_dir, save_last=True, save_top_k=0, enable_version_counter=False,
                        train_time_interval=timedelta(minutes=cfg.checkpoint_every_minutes)),
        ModelCheckpoint(dirpath=ckpt_dir, filename="best", monitor="val/bleu4", mode="max", save_top_k=1),
        LearningRateMonitor(logging_interval="step"),
        ProgressLog(cfg.log_every_steps),
    ]
    if cfg.decay_steps > 0:
        callbacks.append(SaveBeforeDecay(ckpt_dir / "stable.ckpt", cfg.max_steps - cfg.decay_steps))
    precision = resolve_precision(cfg.precision, cfg.accelerator)
    logger.info("precision %s", precision)
    trainer = L.Trainer(
        max_steps=cfg.max_steps, precision=precision, accelerator=cfg.accelerator, devices=cfg.devices,
        num_nodes=cfg.num_nodes, strategy=cfg.strategy, val_check_interval=cfg.val_every_steps,
        check_val_every_n_epoch=None, log_every_n_steps=cfg.log_every_steps, default_root_dir=cfg.out_dir,
        logger=CSVLogger(cfg.out_dir, name="logs"), callbacks=callbacks, use_distributed_sampler=False,
        gradient_clip_val=1.0, enable_progress_bar=False, num_sanity_val_steps=0,
        limit_val_batches=1.0 if cfg.data.val_manifest else 0,
    )
    if resume:
        logger.info("resuming from %s", resume)
        # Lightning cannot see that RankShard skips the batches trained on before the stop.
        warnings.filterwarnings("ignore", message="You're resuming from a checkpoint that ended before the epoch ended")
    trainer.fit(lit, datamodule=dm, ckpt_path=resume)
    trainer.save_checkpoint(last)
    return last


def _without_init(cfg: TrainConfig) -> TrainConfig:
    return replace(cfg, init_from=None, decoder_init=None)  # resuming: the .ckpt has the weights already
