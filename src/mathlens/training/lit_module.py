"""Thin LightningModule: loss, validation by decoding, optimizer. The network is plain Im2Latex."""

from __future__ import annotations

import logging
import math
from typing import Any

import lightning as L
import torch
from torch import nn

from mathlens.config import DecodeConfig, ModelConfig, RewardConfig, from_dict, to_dict
from mathlens.data.collate import Batch, right_to_left
from mathlens.decoding.search import R2L_ID, greedy
from mathlens.inference.torch_backend import TorchStepModel
from mathlens.metrics.text import score
from mathlens.models.im2latex import Im2Latex
from mathlens.tokenizer.vocab import Vocab
from mathlens.training.counting import CountingHead
from mathlens.training.reward import Reward, self_critical_loss
from mathlens.training.tree import TreeHead

logger = logging.getLogger(__name__)


class LitIm2Latex(L.LightningModule):
    def __init__(self, model_config: dict[str, Any], vocab: list[str], lr: float = 5e-4, weight_decay: float = 0.01,
                 warmup_steps: int = 500, max_steps: int = 20_000, label_smoothing: float = 0.1,
                 decay_steps: int = 0, count_loss_weight: float = 0.0, r2l_loss_weight: float = 0.0,
                 tree_loss_weight: float = 0.0, reward_weight: float = 0.0,
                 reward: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()  # model_config + vocab travel with every .ckpt
        self.model = Im2Latex(from_dict(ModelConfig, model_config))
        self.vocab = Vocab(tuple(vocab))
        self.loss_fn = nn.CrossEntropyLoss(ignore_index=Vocab.pad_id, label_smoothing=label_smoothing)
        # Training-only (not in exports); created only when used, so older checkpoints resume as they were.
        self.counting = CountingHead(self.model.cfg.decoder.d_model, self.vocab) if count_loss_weight > 0 else None
        self.tree = TreeHead(self.model.cfg.decoder.d_model) if tree_loss_weight > 0 else None
        # Not a submodule: the frozen LaTeX encoder neither trains nor travels in the checkpoints.
        self.reward = Reward(from_dict(RewardConfig, reward or {}), self.vocab) if reward_weight > 0 else None
        self._val_refs: list[list[str]] = []
        self._val_hyps: list[list[str]] = []
        self._buffers_before: list[torch.Tensor] = []
        self._batch_shape = ""
        self.skipped_steps = 0

    @classmethod
    def create(cls, model_config: ModelConfig, vocab: Vocab, **train_args: Any) -> LitIm2Latex:
        return cls(to_dict(model_config), list(vocab.tokens), **train_args)

    def on_fit_start(self) -> None:
        self.model.encoder.stages.to(memory_format=torch.channels_last)  # ~30% faster convs on CPU

    def on_train_batch_start(self, batch: Batch, batch_idx: int) -> None:
        self._buffers_before = [b.detach().clone() for b in self.model.buffers()]  # BatchNorm statistics: a few KB

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Skip the update of a batch whose gradients are not finite, and undo what its forward did.

        One such batch (stage 20, cause unknown) made every weight, Adam moment and BatchNorm
        statistic NaN for good. Without gradients AdamW leaves weights and state as they were.
        """
        grads = [p.grad for p in self.parameters() if p.grad is not None]
        if not grads or all(torch.isfinite(g).all() for g in grads):
            return
        for p in self.parameters():
            p.grad = None
        for buffer, before in zip(self.model.buffers(), self._buffers_before):
            buffer.copy_(before)
        self.skipped_steps += 1
        logger.warning("step %d: non-finite gradients, update skipped (batch %s; %d skipped so far)",
                       self.global_step, self._batch_shape, self.skipped_steps)

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        self._batch_shape = f"images {tuple(batch.images.shape)}, targets {tuple(batch.tgt_out.shape)}"
        images = batch.images.contiguous(memory_format=torch.channels_last)
        memory, memory_mask = self.model.encode(images, batch.pixel_mask)
        states = self.model.decoder.states(batch.tgt_in, memory, memory_mask)  # (B, T, D)
        logits = self.model.decoder.head(states)  # (B, T, V)
        loss = self.loss_fn(logits.reshape(-1, logits.shape[-1]).float(), batch.tgt_out.reshape(-1))
        if self.tree is not None:
            tree_loss = self.tree.loss(states, batch.tgt_out, self.vocab)
            self.log("train/tree_loss", tree_loss, batch_size=len(batch))
            loss = loss + self.hparams.tree_loss_weight * tree_loss
        if self.hparams.r2l_loss_weight > 0:  # the same images read backwards: one encoder pass, two readings
            r2l_in, r2l_out = right_to_left(batch.tgt_out, R2L_ID)
            r2l_logits = self.model.decoder(r2l_in, memory, memory_mask)
            r2l_loss = self.loss_fn(r2l_logits.reshape(-1, r2l_logits.shape[-1]).float(), r2l_out.reshape(-1))
            self.log("train/r2l_loss", r2l_loss, batch_size=len(batch))
            loss = loss + self.hparams.r2l_loss_weight * r2l_loss
        if self.reward is not None:
            refs = [self.vocab.decode(row) for row in batch.tgt_out.tolist()]
            rl_loss, parts = self_critical_loss(self.model.decoder, memory, memory_mask, refs, self.reward)
            self.log_dict({f"train/{k}": v for k, v in parts.items()}, batch_size=len(batch))
            loss = loss + self.hparams.reward_weight * rl_loss
        if self.counting is not None:
            count_loss = self.counting.loss(memory, memory_mask, batch.tgt_out)
            self.log("train/count_loss", count_loss, batch_size=len(batch))
            loss = loss + self.hparams.count_loss_weight * count_loss
        num_tokens = (batch.tgt_out != Vocab.pad_id).sum()
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch))
        self.log("train/tokens", num_tokens.float(), reduce_fx="sum", batch_size=len(batch))
        self.log("train/batch_size", float(len(batch)), batch_size=len(batch))
        return loss

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        stepper = TorchStepModel(self.model)
        hyps = greedy(stepper, stepper.start(batch.images, batch.pixel_mask), len(batch), DecodeConfig(max_len=200))
        for ids, hyp in zip(batch.tgt_out.tolist(), hyps):
            self._val_refs.append(self.vocab.decode(ids))
            self._val_hyps.append(self.vocab.decode(hyp.ids))

    def on_validation_epoch_end(self) -> None:
        scores = score(self._val_refs, self._val_hyps)
        self.log_dict({"val/exact_match": scores.exact_match, "val/bleu4": scores.bleu4,
                       "val/token_edit_distance": scores.token_edit_distance}, prog_bar=True, sync_dist=True)
        self._val_refs.clear()
        self._val_hyps.clear()

    def configure_optimizers(self) -> Any:
        hp = self.hparams
        decay, no_decay = [], []
        for name, param in self.named_parameters():  # no decay on norms, biases, embeddings
            matrix = param.ndim >= 2 and "embed" not in name and "pos" not in name
            (decay if matrix else no_decay).append(param)
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=hp.lr, betas=(0.9, 0.98))

        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: lr_factor(step, hp.warmup_steps, hp.max_steps, hp.decay_steps))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def lr_factor(step: int, warmup_steps: int, max_steps: int, decay_steps: int = 0, floor: float = 0.05) -> float:
    """Linear warm-up, then a cosine to `floor` over the run, or (decay_steps > 0) warmup-stable-decay.

    Warmup-stable-decay keeps the peak until the last `decay_steps`, then decays linearly. A
    checkpoint taken before the decay can go on training at the peak in a later session
    (raise max_steps and resume it): no re-warm-up, no cooled-down weights to heat up again.
    """
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if decay_steps > 0:
        progress = min(1.0, max(0.0, (step - (max_steps - decay_steps)) / decay_steps))
        return 1.0 - (1.0 - floor) * progress
    progress = min(1.0, (step - warmup_steps) / max(1, max_steps - warmup_steps))
    return floor + (1.0 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
