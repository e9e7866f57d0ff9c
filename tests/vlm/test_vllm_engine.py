"""The vLLM engine up to vLLM itself: vllm cannot run on these CPUs, so `vllm.LLM` and its parameter
classes are replaced, and only they, by recorders that answer like vLLM's outputs do. What runs
for real: the checkpoint check, the engine arguments, the prompts and pictures handed to vLLM,
the decoding parameters, and the replies read back into normalized predictions."""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from mathlens.api import Recognizer
from mathlens.config import DecodeConfig
from mathlens.errors import MathlensError
from mathlens.vlm.backend import UNIMUMER_PROMPT, VlmConfig, VlmPredictor
from mathlens.vlm.vllm_engine import VllmClasses, VllmEngine, engine_arguments, vllm_classes


@dataclass
class Params:
    kwargs: dict[str, Any]


@dataclass
class FakeLLM:
    """Stands for vllm.LLM: records what it is given, answers `x ^ { 2 }` to every picture."""

    tokenizer: Any
    kwargs: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, list[dict[str, Any]], Params]] = field(default_factory=list)

    def get_tokenizer(self) -> Any:
        return self.tokenizer

    def generate(self, requests, params, use_tqdm=True):
        self.calls.append(("generate", requests, params))
        return [SimpleNamespace(outputs=[SimpleNamespace(text="x ^ { 2 }", token_ids=[1, 2, 3, 4, 5],
                                                         cumulative_logprob=5 * math.log(0.9))])
                for _ in requests]

    def beam_search(self, requests, params):
        self.calls.append(("beam_search", requests, params))
        text = requests[0]["prompt"] + "\\frac { 1 } { 2 <|im_end|>"  # vLLM decodes prompt and answer together
        return [SimpleNamespace(sequences=[SimpleNamespace(text=text, tokens=list(range(99)),
                                                           cum_logprob=-0.7)]) for _ in requests]


@pytest.fixture
def fake_vllm(tiny_vlm_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_vlm_dir)
    made: list[FakeLLM] = []

    def make_llm(**kwargs):
        made.append(FakeLLM(tokenizer, kwargs))
        return made[-1]

    return VllmClasses(make_llm, lambda **kw: Params(kw), lambda **kw: Params(kw)), made


def test_without_vllm_installed_the_engine_says_how_to_get_it():
    pytest.importorskip("transformers")
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    with pytest.raises(MathlensError, match="needs vllm on a GPU machine: pip install vllm"):
        vllm_classes()


def test_engine_gets_the_checkpoint_one_image_a_prompt_and_the_pixel_bounds(tiny_vlm_dir, fake_vllm):
    classes, made = fake_vllm
    cfg = VlmConfig(str(tiny_vlm_dir), engine="vllm", min_pixels=100, max_pixels=28 * 28 * 10, max_new_tokens=50)
    VllmEngine(cfg, classes)
    assert made[0].kwargs == engine_arguments(cfg) == {
        "model": str(tiny_vlm_dir), "dtype": "bfloat16", "limit_mm_per_prompt": {"image": 1},
        "max_model_len": 10 + 256 + 50, "mm_processor_kwargs": {"min_pixels": 100, "max_pixels": 28 * 28 * 10}}


def test_greedy_batch_sends_chat_prompts_with_pictures_and_normalizes_replies(tiny_vlm_dir, fake_vllm, fixtures):
    classes, made = fake_vllm
    engine = VllmEngine(VlmConfig(str(tiny_vlm_dir), engine="vllm", max_new_tokens=64), classes)
    rec = Recognizer(predictor=VlmPredictor(VlmConfig(str(tiny_vlm_dir)), engine=engine),
                     decode=DecodeConfig(beam_size=1, views=False))
    preds = rec.recognize_batch([fixtures / "quadratic.png", fixtures / "inkml" / "one_plus_one.crohme.inkml",
                                 b"not an image"], errors="return")
    kind, requests, params = made[0].calls[0]
    assert kind == "generate" and len(requests) == 2  # the bad input never reaches the engine
    assert params.kwargs == {"temperature": 0.0, "max_tokens": 64, "logprobs": 0,
                             "stop": ["<|im_end|>", "<|endoftext|>"]}
    for request in requests:
        assert request["prompt"].count("<|image_pad|>") == 1 and UNIMUMER_PROMPT in request["prompt"]
        image = request["multi_modal_data"]["image"]
        pixels = np.asarray(image)
        assert image.mode == "RGB" and pixels.min() == 0 and np.median(pixels) == 255  # black ink on white
    assert [p.latex for p in preds[:2]] == ["x^{2}", "x^{2}"]
    assert preds[0].confidence == pytest.approx(0.9, abs=1e-4)
    assert preds[2].error == "not a recognised image format"


def test_beam_search_reads_the_answer_after_the_assistant_turn(tiny_vlm_dir, fake_vllm, fixtures):
    classes, made = fake_vllm
    engine = VllmEngine(VlmConfig(str(tiny_vlm_dir), engine="vllm", max_new_tokens=32), classes)
    rec = Recognizer(predictor=VlmPredictor(VlmConfig(str(tiny_vlm_dir)), engine=engine),
                     decode=DecodeConfig(beam_size=3, views=False))
    pred = rec.recognize(fixtures / "quadratic.png")
    kind, _, params = made[0].calls[0]
    assert kind == "beam_search" and params.kwargs == {"beam_width": 3, "max_tokens": 32}
    assert pred.latex == "\\frac{1}{2}"  # the brace vLLM's answer left open is closed by the repair
    assert 0.0 < pred.confidence < 1.0


def test_a_missing_checkpoint_is_refused_before_vllm_starts(fake_vllm):
    classes, made = fake_vllm
    with pytest.raises(MathlensError, match="no VLM checkpoint at /no/such/checkpoint"):
        VllmEngine(VlmConfig("/no/such/checkpoint", engine="vllm"), classes)
    assert made == []
