"""vLLM's offline engine behind `VlmPredictor`: GPU batches at vLLM's throughput.

vLLM widens the image pad and runs the model's own image processor; this module only builds the
prompts (the same chat prompt as the transformers engine) and reads the replies. It is imported
when `--vlm-engine vllm` (or `auto` on a GPU machine with vllm installed) asks for it; vLLM's
classes are looked up in `vllm_classes`, the one place tests substitute.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from PIL import Image

from mathlens.errors import CheckpointError, MathlensError
from mathlens.vlm.backend import STOP_TOKENS, Reply, VlmConfig, chat_prompt, check_model_path

logger = logging.getLogger(__name__)

ASSISTANT_TURN = "<|im_start|>assistant\n"
PROMPT_TOKENS = 256  # the chat turns and the instruction around the picture, with room to spare


@dataclass(frozen=True)
class VllmClasses:
    llm: Any  # vllm.LLM
    sampling_params: Any  # vllm.SamplingParams
    beam_search_params: Any  # vllm.sampling_params.BeamSearchParams


def vllm_classes() -> VllmClasses:
    """vLLM's engine classes, or a clear error where vllm is not installed."""
    try:
        from vllm import LLM, SamplingParams
        from vllm.sampling_params import BeamSearchParams
    except ImportError as err:
        raise MathlensError(f"--vlm-engine vllm needs vllm on a GPU machine: pip install vllm ({err})") from None
    return VllmClasses(LLM, SamplingParams, BeamSearchParams)


def engine_arguments(cfg: VlmConfig) -> dict[str, Any]:
    """`vllm.LLM(**...)` for one picture a prompt, bounded as the transformers engine bounds it. The
    context holds the largest picture (a token per 28 x 28 pixels), the prompt and the reply, not the
    model's whole window (128k for Qwen2.5-VL), which would reserve KV cache for nothing."""
    max_model_len = cfg.max_pixels // (28 * 28) + PROMPT_TOKENS + cfg.max_new_tokens
    return {"model": cfg.model, "dtype": "bfloat16" if cfg.dtype == "auto" else cfg.dtype,
            "limit_mm_per_prompt": {"image": 1}, "max_model_len": max_model_len,
            "mm_processor_kwargs": {"min_pixels": cfg.min_pixels, "max_pixels": cfg.max_pixels}}


class VllmEngine:
    def __init__(self, cfg: VlmConfig, classes: VllmClasses | None = None) -> None:
        check_model_path(cfg.model)
        self.classes = classes or vllm_classes()
        try:
            self.llm = self.classes.llm(**engine_arguments(cfg))
        except (OSError, ValueError) as err:
            raise CheckpointError(f"vLLM cannot load {cfg.model}: {err}") from None
        self.tokenizer = self.llm.get_tokenizer()
        self.max_new_tokens = cfg.max_new_tokens

    def requests(self, images: list[Image.Image], prompt: str) -> list[dict[str, Any]]:
        """One vLLM prompt a picture: the chat prompt with its single image pad, and the picture."""
        text = chat_prompt(self.tokenizer, prompt)
        return [{"prompt": text, "multi_modal_data": {"image": image}} for image in images]

    def generate(self, images: list[Image.Image], prompt: str, beam_size: int) -> list[Reply]:
        """Greedy decoding (temperature 0) for beam 1, vLLM's beam search above it."""
        requests = self.requests(images, prompt)
        if beam_size > 1:
            params = self.classes.beam_search_params(beam_width=beam_size, max_tokens=self.max_new_tokens)
            outputs = self.llm.beam_search(requests, params)
            return [self._beam_reply(out) for out in outputs]
        params = self.classes.sampling_params(temperature=0.0, max_tokens=self.max_new_tokens, logprobs=0,
                                              stop=list(STOP_TOKENS))
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        return [_greedy_reply(out) for out in outputs]

    def _beam_reply(self, output: Any) -> Reply:
        """A BeamSearchOutput's best sequence. Its text is decoded from the prompt's tokens and the
        answer's, so the answer is what follows the assistant's turn, up to a stop token."""
        best = output.sequences[0]
        text = (best.text or "").rsplit(ASSISTANT_TURN, 1)[-1]
        for stop in STOP_TOKENS:
            text = text.split(stop)[0]
        num_tokens = max(1, len(self.tokenizer.encode(text, add_special_tokens=False)))
        return Reply(text, best.cum_logprob / num_tokens)


def _greedy_reply(output: Any) -> Reply:
    """A vLLM RequestOutput's first completion, with its mean token log-probability."""
    completion = output.outputs[0]
    num_tokens = len(completion.token_ids)
    cumulative = completion.cumulative_logprob
    mean = cumulative / num_tokens if cumulative is not None and num_tokens else -math.inf
    return Reply(completion.text, mean)
