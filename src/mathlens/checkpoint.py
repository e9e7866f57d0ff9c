"""THE checkpoint format: one file holding everything needed to rebuild a model.

`format_version`, `mathlens_version`, `model_config`, `vocab`, an unwrapped `state_dict` and,
optionally, `train_state`. Loading takes an explicit path and never touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mathlens.config import ModelConfig, from_dict, to_dict
from mathlens.errors import CheckpointError
from mathlens.tokenizer.vocab import Vocab

FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    model_config: ModelConfig
    vocab: Vocab
    state_dict: dict[str, Any]
    train_state: dict[str, Any] | None = None


def _unwrap(state_dict: dict[str, Any]) -> dict[str, Any]:
    """Drop wrapper prefixes (Lightning's `model.`, DDP's `module.`, torch.compile's `_orig_mod.`)."""
    out = {}
    for key, value in state_dict.items():
        for prefix in ("model.", "module.", "_orig_mod."):
            if key.startswith(prefix):
                key = key[len(prefix):]
        out[key] = value
    return out


def save(ckpt: Checkpoint, path: Path, *, half: bool = False) -> None:
    """Write a checkpoint; `half` stores float tensors as fp16 (the shipped form)."""
    import torch
    from mathlens import __version__

    state = {k: (v.half() if half and v.is_floating_point() else v) for k, v in ckpt.state_dict.items()}
    payload = {"format_version": FORMAT_VERSION, "mathlens_version": __version__,
               "model_config": to_dict(ckpt.model_config), "vocab": list(ckpt.vocab.tokens),
               "state_dict": state, "train_state": ckpt.train_state}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load(path: Path) -> Checkpoint:
    import torch

    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a corrupt file
        raise CheckpointError(f"cannot read checkpoint {path}: {err}") from None
    if "state_dict" in payload and "format_version" not in payload and "hyper_parameters" in payload:
        return from_lightning(payload)
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {version!r}, this mathlens reads {FORMAT_VERSION}")
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in payload["state_dict"].items()}
    return Checkpoint(from_dict(ModelConfig, payload["model_config"]), Vocab(tuple(payload["vocab"])),
                      state, payload.get("train_state"))


def from_lightning(payload: dict[str, Any]) -> Checkpoint:
    """Convert a Lightning `.ckpt` (saved by training/lit_module.py) to a Checkpoint."""
    hp = payload["hyper_parameters"]
    try:
        cfg = from_dict(ModelConfig, hp["model_config"])
        vocab = Vocab(tuple(hp["vocab"]))
    except (KeyError, ValueError, TypeError) as err:
        raise CheckpointError(f"Lightning checkpoint lacks mathlens hyperparameters: {err}") from None
    network = {k: v for k, v in payload["state_dict"].items() if k.startswith("model.")}  # not training-only heads
    return Checkpoint(cfg, vocab, _unwrap(network), {"global_step": payload.get("global_step")})


def average(ckpts: list[Checkpoint]) -> Checkpoint:
    """The mean of the weights of runs branched from the same weights (a "model soup").

    Branches of one run still lie in one basin, so their mean is often better than each; weights
    trained apart do not line up, hence the check that the models are the same.
    """
    first = ckpts[0]
    # Preprocessing is calibrated after training, not learned: the first checkpoint's is kept.
    if any(c.vocab != first.vocab or replace(c.model_config, preprocess=first.model_config.preprocess) != first.model_config
           for c in ckpts[1:]):
        raise CheckpointError("only checkpoints of the same model and vocabulary can be averaged")
    state = {key: sum(c.state_dict[key] for c in ckpts) / len(ckpts) if value.is_floating_point() else value
             for key, value in first.state_dict.items()}
    return Checkpoint(first.model_config, first.vocab, state, {"averaged": len(ckpts)})


def build_model(ckpt: Checkpoint):  # -> Im2Latex
    from mathlens.models.im2latex import Im2Latex

    model = Im2Latex(ckpt.model_config)
    missing, unexpected = model.load_state_dict(ckpt.state_dict, strict=False)
    missing = [k for k in missing if k != "decoder.head.weight"]  # tied to the embedding
    if missing or unexpected:
        raise CheckpointError(f"weights do not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval()
