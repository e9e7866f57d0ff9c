"""The one inference entry point: preprocessed images in, predictions out (onnxruntime, no torch)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from mathlens.config import DecodeConfig, ModelConfig, PreprocessConfig, from_dict
from mathlens.decoding.search import beam_search, greedy
from mathlens.errors import CheckpointError
from mathlens.inference.calibration import Calibration, Signals, judge
from mathlens.inference.preprocess import Judge, pad_batch
from mathlens.inference.style import StyleProbe, pooled_keys
from mathlens.tokenizer.lexer import detokenize
from mathlens.tokenizer.repair import repair
from mathlens.tokenizer.vocab import Vocab

META_FILE = "model.json"


def default_model_dir() -> Path:
    """The model shipped inside the package (src/mathlens/weights)."""
    return Path(str(resources.files("mathlens") / "weights"))


@dataclass(frozen=True)
class Prediction:
    latex: str
    # The estimated probability that the reading is exactly right (calibration.py); for a model
    # without a calibration, and for each view before `conclude`, the geometric-mean token probability.
    confidence: float
    tokens: tuple[str, ...] = ()
    error: str | None = None  # set instead of raising when a batch item could not be read
    unsure: str | None = None  # why this reading should not be trusted (say so to the user), else None
    signals: Signals | None = None  # what the decoder knew about it (calibration's input)


class Predictor:
    """Loads an exported model directory (model.json, encoder.onnx, decoder.onnx)."""

    def __init__(self, model_dir: Path | None = None, num_threads: int = 2, max_batch_size: int = 16,
                 memory_arena: bool = True) -> None:
        from mathlens.inference.onnx_backend import OnnxStepModel

        self.model_dir = model_dir or default_model_dir()
        meta_path = self.model_dir / META_FILE
        if not meta_path.is_file():
            raise CheckpointError(f"no model at {self.model_dir} (missing {META_FILE})")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        self.model_config = from_dict(ModelConfig, meta["model_config"])
        self.vocab = Vocab(tuple(meta["vocab"]))
        self.calibration = from_dict(Calibration, meta["calibration"]) if meta.get("calibration") else None
        probe = meta.get("handwriting_probe")
        self.style_probe = StyleProbe(tuple(probe["weights"]), float(probe["bias"])) if probe else None
        self.backend = OnnxStepModel(self.model_dir, num_threads=num_threads, memory_arena=memory_arena)
        self.max_batch_size = max_batch_size
        self._judged: tuple[np.ndarray, dict[str, np.ndarray]] | None = None  # the last picture the probe encoded

    @property
    def preprocess_config(self) -> PreprocessConfig:
        return self.model_config.preprocess

    @property
    def judge(self) -> Judge | None:
        """`preprocess_views`' judge of pictures (print once, handwriting at `handwriting_views`);
        None for a model without a style probe (every picture at `picture_views`)."""
        return self.looks_handwritten if self.style_probe is not None else None

    def looks_handwritten(self, array: np.ndarray) -> bool:
        """The model's style probe on a preprocessed picture: one encoder pass, a dot product."""
        if self.style_probe is None:
            raise ValueError(f"the model at {self.model_dir} has no handwriting_probe (mathlens fit-cue --write)")
        state = self.backend.start(*pad_batch([array]))
        self._judged = (array, state)  # a picture judged print is read next from this same encoding
        return bool(self.style_probe.handwritten(pooled_keys(state["cross_k"], state["memory_mask"]))[0])

    def predict(self, arrays: list[np.ndarray], cfg: DecodeConfig = DecodeConfig()) -> list[Prediction]:
        """Preprocessed (H, W) inputs -> one Prediction each, batched by similar width.

        A batch holds at most `max_batch_size` hypotheses (images x beam size): each carries its
        image's encoding, which dominates memory.
        """
        order = sorted(range(len(arrays)), key=lambda i: (arrays[i].shape[1], arrays[i].shape[0]))
        results: list[Prediction | None] = [None] * len(arrays)
        per_call = max(1, self.max_batch_size // cfg.beam_size)
        for start in range(0, len(order), per_call):
            idx = order[start: start + per_call]
            for i, pred in zip(idx, self._predict_batch([arrays[i] for i in idx], cfg)):
                results[i] = pred
        return [r for r in results if r is not None]

    def predict_views(self, views: list[list[np.ndarray]], cfg: DecodeConfig = DecodeConfig()) -> list[Prediction]:
        """Each input read at several sizes (`preprocess_views`) -> the reading its views agree on.

        The first size is read for every input; the others only for inputs whose first reading is
        less sure than `cfg.views_below` (a cascade: the views' cost where they can pay).
        """
        if cfg.views_below >= 1.0:
            preds = iter(self.predict([a for group in views for a in group], cfg))
            return [self.conclude([next(preds) for _ in group]) for group in views]
        firsts = self.predict([group[0] for group in views], cfg)
        answers = [self.conclude([first]) for first in firsts]
        unsure = [i for i, group in enumerate(views) if len(group) > 1 and answers[i].confidence < cfg.views_below]
        others = iter(self.predict([a for i in unsure for a in views[i][1:]], cfg))
        for i in unsure:
            answers[i] = self.conclude([firsts[i], *(next(others) for _ in views[i][1:])])
        return answers

    def conclude(self, readings: Sequence[Prediction]) -> Prediction:
        """One input's readings (one per view) -> the answer, with a calibrated confidence and,
        where it should not be trusted, why."""
        best = agree(readings)
        if best.signals is None:
            return best
        confidence, unsure = judge(best.signals, self.calibration)
        return replace(best, confidence=round(confidence, 4), unsure=unsure)

    def _predict_batch(self, arrays: list[np.ndarray], cfg: DecodeConfig) -> list[Prediction]:
        judged, self._judged = self._judged, None
        if judged is not None and len(arrays) == 1 and arrays[0] is judged[0]:
            state = judged[1]
        else:
            state = self.backend.start(*pad_batch(arrays))
        both_ways = cfg.rescore_right_to_left and self.model_config.decoder.right_to_left
        if cfg.beam_size <= 1:
            hyps = greedy(self.backend, state, len(arrays), cfg)
        else:
            hyps = beam_search(self.backend, state, len(arrays), cfg, right_to_left=both_ways)
        out = []
        for hyp, array in zip(hyps, arrays):
            tokens = repair(self.vocab.decode(hyp.ids))
            columns = (array.shape[1] - self.preprocess_config.trailing_pad) // self.model_config.stride
            signals = Signals(hyp.score, hyp.min_logp, len(tokens), columns)
            out.append(Prediction(detokenize(tokens), round(math.exp(hyp.score), 4), tuple(tokens), signals=signals))
        return out


def agree(readings: Sequence[Prediction]) -> Prediction:
    """The reading with the most confidence summed over the views that read it (ties: the first view).

    Views that misread an input seldom misread it the same way, so agreement outweighs one
    view's certainty (docs/experiments.md, "Reading at several sizes"). Its signals, when it has
    them, say how many views there were and what share of them read the same.
    """
    support: dict[tuple[str, ...], float] = defaultdict(float)
    for reading in readings:
        support[reading.tokens] += reading.confidence
    best = max(support, key=lambda tokens: support[tokens])
    chosen = max((r for r in readings if r.tokens == best), key=lambda r: r.confidence)
    if chosen.signals is None:
        return chosen
    agreement = sum(r.tokens == best for r in readings) / len(readings)
    return replace(chosen, signals=replace(chosen.signals, agreement=agreement, num_views=len(readings)))
