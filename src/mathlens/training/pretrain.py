"""Pretrain a LaTeX encoder on the corpus formulas: masked-token and bracket-depth prediction.

The first stage of the LaTeX-OCR + RL recipe (issue 33): text only, minutes on 2 cores. Tokens
are the recognizer's own (normalized LaTeX, the shipped model's vocabulary), so the encoder can
judge readings and seed a decoder. Masking is BERT's: 15% of the tokens are chosen; of those 80%
become UNK (the vocabulary's stand-in for a mask: real readings never contain it), 10% a random
token, 10% stay. Every token also predicts how deep in braces / `\\left`…`\\right` it sits,
which is the structure a formula's meaning hangs on.

Resumable: `out_dir/last.pt` holds the weights, the optimizer and the step.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from mathlens.models.latex_encoder import LatexEncoder, LatexEncoderConfig
from mathlens.tokenizer.vocab import SPECIALS, UNK, Vocab
from mathlens.training.lit_module import lr_factor
from mathlens.training.state import resume_state, save_state

logger = logging.getLogger(__name__)
OPENERS, CLOSERS = frozenset({"{", "\\left"}), frozenset({"}", "\\right"})
IGNORE = -100
MASK_ID = SPECIALS.index(UNK)


@dataclass(frozen=True)
class PretrainConfig:
    out_dir: Path
    corpus: Path = Path("../shared/datasets/formulas/formulas.tsv.gz")
    vocab_from: Path = Path("src/mathlens/weights/model.json")  # the recognizer whose tokens it learns
    steps: int = 3000
    batch_size: int = 64
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup: int = 200
    mask_prob: float = 0.15
    val_size: int = 2000  # formulas held out for the masked-token accuracy
    seed: int = 0
    threads: int = 2
    checkpoint_every: int = 200
    model: LatexEncoderConfig = field(default_factory=LatexEncoderConfig)


def bracket_depths(tokens: list[str], classes: int) -> list[int]:
    """Each token's nesting depth; a closer sits at its opener's depth, deeper ones share the last class."""
    depth, out = 0, []
    for token in tokens:
        if token in CLOSERS:
            depth = max(0, depth - 1)
        out.append(min(depth, classes - 1))
        if token in OPENERS:
            depth += 1
    return out


def mask_tokens(ids: np.ndarray, vocab_size: int, prob: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets): targets are IGNORE except where a token was chosen; specials are never chosen."""
    maskable = ids >= len(SPECIALS)
    chosen = maskable & (rng.random(ids.shape) < prob)
    targets = np.where(chosen, ids, IGNORE)
    inputs = ids.copy()
    roll = rng.random(ids.shape)
    inputs[chosen & (roll < 0.8)] = MASK_ID
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = rng.integers(len(SPECIALS), vocab_size, size=int(swap.sum()))
    return inputs, targets


def load_vocab(model_json: Path) -> Vocab:
    return Vocab(tuple(json.loads(model_json.read_text(encoding="utf-8"))["vocab"]))


def encode_corpus(cfg: PretrainConfig, vocab: Vocab) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The corpus as id arrays (BOS … EOS, at most max_len) and their depth labels."""
    from mathlens.synth.corpus import read_corpus

    ids, depths = [], []
    for entry in read_corpus(cfg.corpus, max_tokens=cfg.model.max_len - 2):
        ids.append(np.array(vocab.encode(entry.tokens), dtype=np.int64))
        depths.append(np.array([0, *bracket_depths(entry.tokens, cfg.model.depth_classes), 0], dtype=np.int64))
    if not ids:
        raise ValueError(f"no formulas in {cfg.corpus}")
    return ids, depths


def batch(rows: list[int], ids: list[np.ndarray], depths: list[np.ndarray], cfg: PretrainConfig,
          rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Padded (inputs, masked-token targets, depth targets) for the given formulas."""
    width = max(len(ids[r]) for r in rows)
    full = np.zeros((len(rows), width), dtype=np.int64)
    depth = np.full((len(rows), width), IGNORE, dtype=np.int64)
    for i, r in enumerate(rows):
        full[i, : len(ids[r])] = ids[r]
        depth[i, : len(ids[r])] = depths[r]
    inputs, targets = mask_tokens(full, cfg.model.vocab_size, cfg.mask_prob, rng)
    return torch.from_numpy(inputs), torch.from_numpy(targets), torch.from_numpy(depth)


def pretrain_loss(model: LatexEncoder, inputs: torch.Tensor, targets: torch.Tensor,
                  depth: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    token_logits, depth_logits = model.heads(model(inputs))
    tokens = F.cross_entropy(token_logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE)
    depths = F.cross_entropy(depth_logits.flatten(0, 1), depth.flatten(), ignore_index=IGNORE)
    hit = (token_logits.argmax(-1) == targets)[targets != IGNORE].float().mean()
    return tokens + depths, {"tokens": tokens.item(), "depth": depths.item(), "masked_acc": hit.item()}


def pretrain(cfg: PretrainConfig) -> Path:
    """Train (or resume) to `cfg.steps`; returns `out_dir/last.pt`."""
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    vocab = load_vocab(cfg.vocab_from)
    cfg = PretrainConfig(**{**asdict(cfg), "model": LatexEncoderConfig(**{**asdict(cfg.model), "vocab_size": len(vocab)})})
    ids, depths = encode_corpus(cfg, vocab)
    order = list(range(len(ids)))
    random.Random(cfg.seed).shuffle(order)
    val, train = order[: cfg.val_size], order[cfg.val_size:] or order
    logger.info("%d formulas (%d held out), vocabulary of %d", len(ids), len(val), len(vocab))

    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    model = LatexEncoder(cfg.model)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    path = cfg.out_dir / "last.pt"
    step = resume_state(path, model, opt)
    rng = np.random.default_rng(cfg.seed + step)  # a resumed run draws new batches, not the first ones again
    model.train()
    started = time.time()
    while step < cfg.steps:
        for group in opt.param_groups:
            group["lr"] = cfg.lr * lr_factor(step, cfg.warmup, cfg.steps)
        loss, parts = pretrain_loss(model, *batch(list(rng.choice(train, cfg.batch_size)), ids, depths, cfg, rng))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 50 == 0 or step == cfg.steps:
            logger.info("step %d loss %.4f %s %.3f s/step", step, loss.item(),
                        " ".join(f"{k} {v:.4f}" for k, v in parts.items()), (time.time() - started) / step)
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            save_state(path, model, opt, step, model_config=asdict(cfg.model), vocab=list(vocab.tokens))
    if val:
        logger.info("held out: %s", evaluate(model, val, ids, depths, cfg))
    return path


@torch.no_grad()
def evaluate(model: LatexEncoder, rows: list[int], ids: list[np.ndarray], depths: list[np.ndarray],
             cfg: PretrainConfig) -> dict[str, float]:
    """Masked-token accuracy and losses on held-out formulas (a fixed mask draw)."""
    model.eval()
    rng = np.random.default_rng(12345)
    totals: dict[str, float] = {}
    chunks = [rows[i: i + cfg.batch_size] for i in range(0, len(rows), cfg.batch_size)]
    for chunk in chunks:
        _, parts = pretrain_loss(model, *batch(chunk, ids, depths, cfg, rng))
        for k, v in parts.items():
            totals[k] = totals.get(k, 0.0) + v / len(chunks)
    model.train()
    return {k: round(v, 4) for k, v in totals.items()}


def load_encoder(path: Path) -> tuple[LatexEncoder, Vocab]:
    """A pretrained encoder (eval mode) and its vocabulary, from `last.pt`."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    model = LatexEncoder(LatexEncoderConfig(**state["model_config"]))
    model.load_state_dict(state["model"])
    return model.eval(), Vocab(tuple(state["vocab"]))


@torch.no_grad()
def init_decoder(decoder: torch.nn.Module, path: Path) -> int:
    """Start a recognizer's decoder from a pretrained LaTeX encoder; returns the tensors copied.

    The token embeddings (tied to the output layer), each layer's self-attention, feed-forward
    and their norms come from the encoder's first layers, read causally from now on; the
    positions start as the encoder's sine table. Cross-attention, which looks at the picture,
    has no counterpart and keeps its random init.
    """
    from mathlens.models.layers import sinusoid_1d

    encoder, _ = load_encoder(path)
    if len(encoder.encoder.layers) < len(decoder.layers) or encoder.cfg.dim != decoder.embed.weight.shape[1]:
        raise ValueError(f"{path}: a {encoder.cfg.layers}-layer, {encoder.cfg.dim}-wide encoder cannot start a "
                         f"{len(decoder.layers)}-layer, {decoder.embed.weight.shape[1]}-wide decoder")
    if encoder.cfg.vocab_size != decoder.embed.weight.shape[0]:
        raise ValueError(f"{path} was pretrained with another vocabulary than the recognizer's")
    dim = encoder.cfg.dim
    pairs = [(decoder.embed.weight, encoder.embed.weight), (decoder.ln.weight, encoder.norm.weight),
             (decoder.ln.bias, encoder.norm.bias)]
    for mine, theirs in zip(decoder.layers, encoder.encoder.layers):
        attn = theirs.self_attn
        pairs += [(mine.self_attn.q.weight, attn.in_proj_weight[:dim]), (mine.self_attn.q.bias, attn.in_proj_bias[:dim]),
                  (mine.self_attn.kv.weight, attn.in_proj_weight[dim:]), (mine.self_attn.kv.bias, attn.in_proj_bias[dim:]),
                  (mine.self_attn.out.weight, attn.out_proj.weight), (mine.self_attn.out.bias, attn.out_proj.bias),
                  (mine.ln1.weight, theirs.norm1.weight), (mine.ln1.bias, theirs.norm1.bias),
                  (mine.ln3.weight, theirs.norm2.weight), (mine.ln3.bias, theirs.norm2.bias),
                  (mine.ff.net[0].weight, theirs.linear1.weight), (mine.ff.net[0].bias, theirs.linear1.bias),
                  (mine.ff.net[3].weight, theirs.linear2.weight), (mine.ff.net[3].bias, theirs.linear2.bias)]
    for mine, theirs in pairs:
        if mine.shape != theirs.shape:
            raise ValueError(f"{path}: shapes {tuple(theirs.shape)} and {tuple(mine.shape)} do not fit")
        mine.copy_(theirs)
    decoder.pos.weight.copy_(sinusoid_1d(decoder.pos.weight.shape[0], dim))
    return len(pairs) + 1
