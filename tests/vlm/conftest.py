"""The VLM tests' model: a Qwen2-VL of a few MB with random weights and a byte-level tokenizer made
here, saved as a checkpoint folder (config, safetensors, tokenizer, image processor, chat
template), nothing downloaded. Its readings are noise; the plumbing around it is what the tests check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                  "<|image_pad|>", "<|video_pad|>")
# Qwen2-VL's chat template, cut down to what one picture and a prompt need.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def build_tiny_qwen2vl(out_dir: Path, seed: int = 0, family: str = "qwen2_vl") -> Path:
    """Save a tiny Qwen2-VL (or, family="qwen2_5_vl", Qwen2.5-VL: Uni-MuMER's class) checkpoint to `out_dir`:
    config, safetensors, tokenizer, image processor, chat template."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (PreTrainedTokenizerFast, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration,
                              Qwen2VLConfig, Qwen2VLForConditionalGeneration)
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text = dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                rope_scaling={"type": "mrope", "mrope_section": [1, 1, 2]},
                bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"])
    vision = dict(depth=2, num_heads=4, patch_size=14, spatial_merge_size=2, temporal_patch_size=2)
    if family == "qwen2_5_vl":  # windowed attention in the vision tower, its last block full
        config_class, model_class = Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
        vision.update(hidden_size=32, intermediate_size=64, out_hidden_size=32, window_size=56,
                      fullatt_block_indexes=[1])
    else:
        config_class, model_class = Qwen2VLConfig, Qwen2VLForConditionalGeneration
        vision.update(embed_dim=32, hidden_size=32, mlp_ratio=2)
    config = config_class(text_config=text, vision_config=vision, image_token_id=ids["<|image_pad|>"],
                          video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
                          vision_end_token_id=ids["<|vision_end|>"])
    torch.manual_seed(seed)
    model_class(config).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    Qwen2VLImageProcessorPil(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 64).save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="session", autouse=True)
def offline_hub() -> Iterator[None]:
    """No test here may reach the network: the hub clients are told to stay offline."""
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    yield
    mp.undo()


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory) -> Path:
    pytest.importorskip("transformers", reason="the vlm extra (CI installs it: scripts/install-deps.sh)")
    return build_tiny_qwen2vl(tmp_path_factory.mktemp("tiny_qwen2vl"))


@pytest.fixture(scope="session")
def tiny_qwen25_vl_dir(tmp_path_factory) -> Path:
    pytest.importorskip("transformers", reason="the vlm extra (CI installs it: scripts/install-deps.sh)")
    return build_tiny_qwen2vl(tmp_path_factory.mktemp("tiny_qwen25vl"), family="qwen2_5_vl")


@pytest.fixture(scope="session")
def tiny_vlm(tiny_vlm_dir):
    """The tiny model loaded once (transformers engine, CPU), greedy replies of at most 24 tokens."""
    from mathlens.vlm.backend import VlmConfig, VlmPredictor

    return VlmPredictor(VlmConfig(str(tiny_vlm_dir), engine="transformers", max_new_tokens=24, batch_size=4))
