"""`--backend onnx|vlm --model PATH_OR_ID`: which model reads, the same for every command that reads.

The small model (onnx, the default) needs nothing more; `vlm` loads a vision-language model
(`mathlens.vlm.backend`, the vlm extra), and is refused with a clear message where it cannot be.
"""

from __future__ import annotations

import argparse
from typing import Any

from mathlens.errors import MathlensError


def add_backend_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("backend (--backend vlm needs the vlm extra: pip install 'mathlens[vlm]'; docs/vlm.md)")
    g.add_argument("--backend", choices=("onnx", "vlm"), default="onnx",
                   help="onnx: the small model (default); vlm: a Qwen2-VL / Qwen2.5-VL class model (--model)")
    g.add_argument("--model", default=None, metavar="PATH_OR_ID",
                   help="with --backend vlm: a checkpoint folder (or a hub id, downloaded as your HF settings allow)")
    g.add_argument("--vlm-engine", choices=("auto", "transformers", "vllm"), default="auto",
                   help="auto: vLLM where it is installed and a GPU is there, else transformers")
    g.add_argument("--max-new-tokens", type=int, default=512, help="with --backend vlm: longest reply")
    g.add_argument("--prompt", default=None, help="with --backend vlm: the instruction (default: Uni-MuMER's)")


def vlm_config(args: argparse.Namespace) -> Any:
    """The VlmConfig the flags ask for, or None for the small model; refuses flags that do not fit."""
    model_dir = getattr(args, "model_dir", None)
    if args.backend == "onnx":
        if args.model is not None:
            raise MathlensError("--model is for --backend vlm (the small model's folder is --model-dir)")
        return None
    if args.model is None:
        raise MathlensError("--backend vlm needs --model PATH_OR_ID (a Qwen2-VL class checkpoint)")
    if model_dir is not None:
        raise MathlensError("--model-dir is the small model's folder; with --backend vlm give --model")
    if args.max_new_tokens < 1:
        raise MathlensError("--max-new-tokens must be at least 1")
    from mathlens.vlm.backend import UNIMUMER_PROMPT, VlmConfig

    return VlmConfig(args.model, engine=args.vlm_engine, prompt=args.prompt or UNIMUMER_PROMPT,
                     max_new_tokens=args.max_new_tokens, batch_size=max(1, getattr(args, "batch_size", 16)))


def vlm_predictor(args: argparse.Namespace) -> Any:
    """The VLM predictor the flags ask for, or None for the small model."""
    cfg = vlm_config(args)
    if cfg is None:
        return None
    from mathlens.vlm.backend import VlmPredictor

    return VlmPredictor(cfg)
