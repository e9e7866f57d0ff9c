"""A vision-language model (Qwen2-VL / Qwen2.5-VL class, Uni-MuMER's checkpoints among them) as a predictor.

`VlmPredictor` has the small model's predictor interface (`predict`, `predict_views`, `conclude`,
`preprocess_config`, `judge`), so `Recognizer`, `mathlens predict/eval/serve/batch/bench` and the
server run it unchanged: inputs are read and refused by the same preprocessing (the same
`InvalidInputError` for the same bad input), ink is drawn the same way, and each reply goes
through the same repair into the same compact LaTeX. The picture the model sees is the
preprocessed ink map drawn black on white, one view per input.

Two engines generate: `transformers` (any machine, CPU included) and vLLM's offline engine (GPU
batches, where vllm is installed). Both are imported only when a predictor is built; neither is
a dependency of the default path (`pip install 'mathlens[vlm]'`).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from PIL import Image

from mathlens.config import DecodeConfig, PreprocessConfig
from mathlens.errors import CheckpointError, LatexSyntaxError, MathlensError
from mathlens.inference.predictor import Prediction, agree
from mathlens.tokenizer.lexer import detokenize, tokenize
from mathlens.tokenizer.normalize import normalize
from mathlens.tokenizer.repair import repair

logger = logging.getLogger(__name__)

# Uni-MuMER's recognition prompt, word for word (its published prompts/*.json, "human" turns).
UNIMUMER_PROMPT = ("I have an image of a handwritten mathematical expression. Please write out the expression of "
                   "the formula in the image using LaTeX format.")
SYSTEM_PROMPT = "You are a helpful assistant."
IMAGE_PAD = "<|image_pad|>"
STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")
Engine = Literal["auto", "transformers", "vllm"]
Dtype = Literal["auto", "float32", "bfloat16", "float16"]

# The picture a VLM reads: the small model's preprocessing (ink map, cropped, ~165 dpi) with room
# for long formulas and one view per input (a VLM call costs too much to vote over sizes).
VLM_PREPROCESS = PreprocessConfig(max_height=448, max_width=1792, margin=8, max_content_height=400, pad_multiple=1,
                                  trailing_pad=0, ink_views=(1.0,), picture_views=(1.0,), handwriting_views=(1.0,))


@dataclass(frozen=True)
class VlmConfig:
    model: str  # a checkpoint folder, or a hub id (downloaded by transformers/vLLM as the HF settings allow)
    engine: Engine = "auto"  # auto: vLLM where it is installed and a GPU is there, else transformers
    prompt: str = UNIMUMER_PROMPT
    max_new_tokens: int = 512
    batch_size: int = 16  # pictures per generate call (transformers); vLLM schedules its own batches
    dtype: Dtype = "auto"  # auto: bfloat16 on a GPU, float32 on a CPU
    device: str | None = None  # transformers: None picks cuda when there is one
    min_pixels: int = 28 * 28 * 4  # the image processor's bounds (Qwen2-VL counts 28x28 pixels a token)
    max_pixels: int = 28 * 28 * 1280
    preprocess: PreprocessConfig = field(default=VLM_PREPROCESS)


@dataclass(frozen=True)
class Reply:
    text: str
    mean_logprob: float  # over the generated tokens: exp() is the geometric-mean token probability


class GenerateEngine(Protocol):
    tokenizer: Any

    def generate(self, images: list[Image.Image], prompt: str, beam_size: int) -> list[Reply]: ...


def chat_prompt(tokenizer: Any, prompt: str) -> str:
    """The model's own chat template with one image before the prompt; Qwen's ChatML where it has none.

    The image stands as one `<|image_pad|>`, which the engine widens to the picture's token count.
    """
    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return (f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n<|vision_start|>{IMAGE_PAD}"
            f"<|vision_end|>{prompt}<|im_end|>\n<|im_start|>assistant\n")


_FENCE_RE = re.compile(r"```[a-zA-Z]*\n?(.*?)```", re.DOTALL)
_DELIMITERS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))


def clean_reply(text: str) -> str:
    """The LaTeX in a model's reply: its last line (an answer after reasoning ends with it), without
    code fences or math delimiters, which chat models add and the small model never writes."""
    fenced = _FENCE_RE.findall(text)
    if fenced:
        text = fenced[-1]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    latex = lines[-1] if lines else ""
    for start, end in _DELIMITERS:
        if len(latex) >= len(start) + len(end) and latex.startswith(start) and latex.endswith(end):
            latex = latex[len(start): len(latex) - len(end)].strip()
            break
    return latex


def reply_to_prediction(reply: Reply) -> Prediction:
    """A reply as the small model's output: canonical tokens (the normalizer, as the small model was
    trained to write them: `\\le` -> `\\leq`, `x^2` -> `x^{2}`), repaired so they compile, joined compactly."""
    tokens = repair(reply_tokens(clean_reply(reply.text)))
    confidence = round(math.exp(reply.mean_logprob), 4) if math.isfinite(reply.mean_logprob) else 0.0
    return Prediction(detokenize(tokens), confidence, tuple(tokens))


def reply_tokens(latex: str) -> list[str]:
    """The normalizer's tokens; the lexer's where the normalizer cannot parse (an unclosed group,
    which the repair then closes); a trailing backslash (a reply cut at its stop) left out."""
    for text in (latex, latex.rstrip("\\")):
        for read in (normalize, tokenize):
            try:
                return read(text)
            except LatexSyntaxError:
                continue
    return []


def ink_to_image(array: np.ndarray) -> Image.Image:
    """A preprocessed (H, W) ink map (ink 1 on 0) as the black-on-white RGB picture a VLM reads."""
    gray = np.clip((1.0 - array) * 255.0, 0, 255).astype(np.uint8)  # (H, W)
    return Image.fromarray(gray).convert("RGB")


class VlmPredictor:
    """A VLM behind the interface of `mathlens.inference.predictor.Predictor`."""

    judge = None  # every picture at its one view

    def __init__(self, cfg: VlmConfig, engine: GenerateEngine | None = None) -> None:
        if cfg.max_new_tokens < 1 or cfg.batch_size < 1:
            raise MathlensError("max_new_tokens and batch_size must be at least 1")
        self.cfg = cfg
        self.engine = engine or load_engine(cfg)
        self.model_dir = Path(cfg.model)
        self.max_batch_size = cfg.batch_size

    @property
    def preprocess_config(self) -> PreprocessConfig:
        return self.cfg.preprocess

    @property
    def vocab(self) -> Any:
        return self.engine.tokenizer

    def predict(self, arrays: list[np.ndarray], cfg: DecodeConfig = DecodeConfig()) -> list[Prediction]:
        """Preprocessed (H, W) inputs -> one Prediction each, generated `batch_size` pictures at a time,
        similar sizes together (less padding)."""
        order = sorted(range(len(arrays)), key=lambda i: arrays[i].shape[0] * arrays[i].shape[1])
        results: dict[int, Prediction] = {}
        for start in range(0, len(order), self.max_batch_size):
            idx = order[start: start + self.max_batch_size]
            replies = self.engine.generate([ink_to_image(arrays[i]) for i in idx], self.cfg.prompt, cfg.beam_size)
            if len(replies) != len(idx):
                raise MathlensError(f"the VLM engine gave {len(replies)} replies for {len(idx)} pictures")
            for i, reply in zip(idx, replies):
                results[i] = reply_to_prediction(reply)
        return [results[i] for i in range(len(arrays))]

    def predict_views(self, views: list[list[np.ndarray]], cfg: DecodeConfig = DecodeConfig()) -> list[Prediction]:
        """Each input's views (one with VLM_PREPROCESS) -> the reading they agree on."""
        preds = iter(self.predict([a for group in views for a in group], cfg))
        return [self.conclude([next(preds) for _ in group]) for group in views]

    def conclude(self, readings: Sequence[Prediction]) -> Prediction:
        return agree(readings)


def load_engine(cfg: VlmConfig) -> GenerateEngine:
    """The engine `cfg.engine` names; `auto` takes vLLM where it is installed and a GPU is there."""
    engine = cfg.engine
    if engine == "auto":
        engine = "vllm" if _vllm_usable() else "transformers"
    if engine == "vllm":
        from mathlens.vlm.vllm_engine import VllmEngine

        return VllmEngine(cfg)
    if engine != "transformers":
        raise MathlensError(f"unknown VLM engine {engine!r} (auto, transformers, vllm)")
    return TransformersEngine(cfg)


def _vllm_usable() -> bool:
    from importlib.util import find_spec

    if find_spec("vllm") is None or find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def check_model_path(model: str) -> None:
    """A path that is written as one (absolute, ./, ../, ~, or with a separator and no hub-id shape)
    must exist: a typo must not turn into a hub download attempt."""
    looks_local = model.startswith(("/", ".", "~")) or model.count("/") > 1 or Path(model).exists()
    if looks_local and not Path(model).expanduser().is_dir():
        raise CheckpointError(f"no VLM checkpoint at {model} (expected a folder with config.json)")
    if looks_local and not (Path(model).expanduser() / "config.json").is_file():
        raise CheckpointError(f"{model} is not a transformers checkpoint: no config.json there")


def transformers_modules() -> Any:
    """`transformers`, or a clear error saying which extra brings it."""
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError as err:
        raise MathlensError(f"the VLM backend needs torch and the vlm extra: pip install 'mathlens[vlm]' "
                            f"({err})") from None
    return transformers


class TransformersEngine:
    """Generation with `transformers` (CPU or GPU): tokenizer, image processor and model loaded apart,
    so no video processor (and no torchvision) is needed; the image pads are widened here, as
    Qwen2-VL's processor does."""

    def __init__(self, cfg: VlmConfig) -> None:
        check_model_path(cfg.model)
        transformers = transformers_modules()
        import torch

        path = str(Path(cfg.model).expanduser()) if Path(cfg.model).expanduser().exists() else cfg.model
        self.device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = {"auto": torch.bfloat16 if self.device.startswith("cuda") else torch.float32, "float32": torch.float32,
                 "bfloat16": torch.bfloat16, "float16": torch.float16}[cfg.dtype]
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(path)
            self.image_processor = transformers.AutoImageProcessor.from_pretrained(
                path, min_pixels=cfg.min_pixels, max_pixels=cfg.max_pixels)
            self.model = transformers.AutoModelForImageTextToText.from_pretrained(path, dtype=dtype).to(self.device)
        except (OSError, ValueError, KeyError) as err:
            raise CheckpointError(f"cannot load the VLM at {cfg.model}: {err}") from None
        self.model.eval()
        self.merge_size = int(getattr(self.image_processor, "merge_size", 2))
        self.max_new_tokens = cfg.max_new_tokens
        self.stop_ids = [i for i in (self.tokenizer.convert_tokens_to_ids(t) for t in STOP_TOKENS)
                         if isinstance(i, int) and i != self.tokenizer.unk_token_id] or [self.tokenizer.eos_token_id]
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.stop_ids[-1]

    def generate(self, images: list[Image.Image], prompt: str, beam_size: int) -> list[Reply]:
        import torch

        vision = self.image_processor(images=images, return_tensors="pt")
        template = chat_prompt(self.tokenizer, prompt)
        if template.count(IMAGE_PAD) != 1:
            raise MathlensError(f"the chat template must place one {IMAGE_PAD} for the picture")
        texts = [template.replace(IMAGE_PAD, IMAGE_PAD * (int(thw.prod()) // self.merge_size ** 2))
                 for thw in vision["image_grid_thw"]]
        text = self.tokenizer(texts, return_tensors="pt", padding=True, padding_side="left")
        inputs = {**text, **vision}
        with torch.inference_mode():
            out = self.model.generate(**{k: v.to(self.device) for k, v in inputs.items()},
                                      max_new_tokens=self.max_new_tokens, do_sample=False, num_beams=beam_size,
                                      eos_token_id=self.stop_ids, pad_token_id=self.pad_id,
                                      output_scores=True, return_dict_in_generate=True)
        new = out.sequences[:, text["input_ids"].shape[1]:]  # (B, T_new)
        mean_logprobs = self._mean_logprobs(out, new, beam_size)
        texts_out = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        return [Reply(t, lp) for t, lp in zip(texts_out, mean_logprobs)]

    def _mean_logprobs(self, out: Any, new: Any, beam_size: int) -> list[float]:
        """Per sequence, the mean log-probability of its generated tokens (beam search: its score)."""
        if beam_size > 1 and getattr(out, "sequences_scores", None) is not None:
            return [float(s) for s in out.sequences_scores]
        steps = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)  # (B, T_new)
        keep = ~np.isin(new.cpu().numpy(), [self.pad_id])
        logprobs = steps.float().cpu().numpy()
        return [float(row[mask].mean()) if mask.any() else float("-inf") for row, mask in zip(logprobs, keep)]
