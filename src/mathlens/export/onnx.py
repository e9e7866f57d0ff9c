"""Export a checkpoint as two ONNX graphs (encoder, decoder step) plus `model.json`.

The encoder graph returns the cross-attention keys/values so the decoder step never recomputes
them; the step graph grows the self-attention cache by one position per call. Parity with the
torch model is checked on an image size not seen during export.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mathlens import checkpoint
from mathlens.config import to_dict
from mathlens.errors import ExportError
from mathlens.inference.onnx_backend import DECODER_FILE, ENCODER_FILE
from mathlens.models.im2latex import Im2Latex

logger = logging.getLogger(__name__)

OPSET = 17
META_FILE = "model.json"


class _EncoderGraph(nn.Module):
    def __init__(self, model: Im2Latex) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor, pixel_mask: torch.Tensor):
        memory, memory_mask = self.model.encode(images, pixel_mask)
        cross_k, cross_v = self.model.decoder.cross_cache(memory)
        return cross_k, cross_v, memory_mask


class _StepGraph(nn.Module):
    def __init__(self, model: Im2Latex) -> None:
        super().__init__()
        self.model = model

    def forward(self, token, position, self_k, self_v, cross_k, cross_v, memory_mask):
        logits, k, v = self.model.decode_step(token, position, self_k, self_v, cross_k, cross_v, memory_mask)
        return torch.log_softmax(logits, dim=-1), k, v


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    max_abs_diff: float
    quantized: bool
    half_weights: bool = False


def export(ckpt_path: Path, out_dir: Path, *, quantize: bool = False, half_weights: bool = False) -> ExportResult:
    """Write encoder.onnx, decoder.onnx and model.json to out_dir; raise ExportError on mismatch.

    quantize: int8 matrix multiplies (smaller, faster, slightly less accurate). half_weights: fp16
    weights on disk, fp32 arithmetic: half the size of fp32, log-probs within a few thousandths.
    """
    if quantize and half_weights:
        raise ExportError("choose one of int8 and fp16 weights")
    ckpt = checkpoint.load(ckpt_path)
    model = checkpoint.build_model(ckpt).float().eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = ckpt.model_config
    images = torch.rand(2, 1, 48, 160)
    mask = torch.ones_like(images)
    enc = _EncoderGraph(model).eval()  # a train-mode wrapper would put the model back in train mode
    cross_k, cross_v, memory_mask = enc(images, mask)
    self_k, self_v = model.empty_cache(2)
    self_k, self_v = torch.randn(*self_k.shape[:3], 3, self_k.shape[-1]), torch.randn(*self_v.shape[:3], 3, self_v.shape[-1])
    token = torch.full((2, 1), 5, dtype=torch.long)
    position = torch.tensor(3, dtype=torch.long)
    cache_axes = {1: "batch", 3: "time"}
    mem_axes = {1: "batch", 3: "memory"}
    with torch.no_grad():
        torch.onnx.export(enc, (images, mask), out_dir / ENCODER_FILE, opset_version=OPSET, dynamo=False,
                          input_names=["images", "pixel_mask"], output_names=["cross_k", "cross_v", "memory_mask"],
                          dynamic_axes={"images": {0: "batch", 2: "height", 3: "width"},
                                        "pixel_mask": {0: "batch", 2: "height", 3: "width"},
                                        "cross_k": mem_axes, "cross_v": mem_axes, "memory_mask": {0: "batch", 3: "memory"}})
        torch.onnx.export(_StepGraph(model).eval(), (token, position, self_k, self_v, cross_k, cross_v, memory_mask),
                          out_dir / DECODER_FILE, opset_version=OPSET, dynamo=False,
                          input_names=["token", "position", "self_k", "self_v", "cross_k", "cross_v", "memory_mask"],
                          output_names=["log_probs", "new_self_k", "new_self_v"],
                          dynamic_axes={"token": {0: "batch"}, "self_k": cache_axes, "self_v": cache_axes,
                                        "cross_k": mem_axes, "cross_v": mem_axes,
                                        "memory_mask": {0: "batch", 3: "memory"}, "log_probs": {0: "batch"},
                                        "new_self_k": cache_axes, "new_self_v": cache_axes})
    if quantize:
        _quantize(out_dir)
    if half_weights:
        for name in (ENCODER_FILE, DECODER_FILE):
            _store_weights_as_fp16(out_dir / name)
    meta = {"model_config": to_dict(cfg), "vocab": list(ckpt.vocab.tokens), "quantized": quantize,
            "weights": "int8" if quantize else "fp16" if half_weights else "fp32"}
    (out_dir / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    diff = parity(model, out_dir)
    # int8 is judged by accuracy (mathlens eval), this only catches breakage; fp16 rounds the folded weights
    limit = 5.0 if quantize else 1e-2 if half_weights else 1e-3
    if not diff <= limit:
        raise ExportError(f"ONNX log-probs differ from torch by {diff:.4f} (limit {limit})")
    logger.info("exported to %s (max |diff| %.2e)", out_dir, diff)
    return ExportResult(out_dir, diff, quantize, half_weights)


def _quantize(out_dir: Path) -> None:
    """int8 weights for MatMul/Gemm (dynamic quantization); convolutions stay fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    for name in (ENCODER_FILE, DECODER_FILE):
        path = out_dir / name
        tmp = path.with_suffix(".int8.onnx")
        quantize_dynamic(path, tmp, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
        tmp.replace(path)


def _store_weights_as_fp16(path: Path, min_size: int = 1024) -> None:
    """Store large fp32 weights as fp16, each behind a Cast back to fp32.

    onnxruntime folds the Casts when it loads the graph, so inference computes in fp32; the only
    change is the rounding of weights the exporter folded (batch norm into convolutions) to fp16.
    Unlike int8's dynamically quantized activations, results do not depend on what shares a batch.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(path)
    graph = model.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            continue
        weights = numpy_helper.to_array(init)
        finite = weights[np.isfinite(weights)]
        if weights.size < min_size or (finite.size and np.abs(finite).max() > 60000.0):
            continue
        name = init.name
        init.CopyFrom(numpy_helper.from_array(weights.astype(np.float16), name + "_fp16"))
        casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT, name=name + "_to_fp32"))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, path)


def parity(model: Im2Latex, onnx_dir: Path, seed: int = 0) -> float:
    """Max |log-prob difference| between torch and ONNX over 4 decode steps on a fresh image size."""
    from mathlens.inference.onnx_backend import OnnxStepModel

    rng = np.random.default_rng(seed)
    images = rng.random((1, 1, 40, 232), dtype=np.float32)
    mask = np.ones_like(images)
    onnx_model = OnnxStepModel(onnx_dir, num_threads=1)
    state = onnx_model.start(images, mask)
    with torch.no_grad():
        t_images = torch.from_numpy(images)
        memory, memory_mask = model.encode(t_images, torch.from_numpy(mask))
        cross_k, cross_v = model.decoder.cross_cache(memory)
        self_k, self_v = model.empty_cache(1)
        worst = 0.0
        tokens = np.array([1], dtype=np.int64)
        for position in range(4):
            logp_onnx, state = onnx_model.step(state, tokens, position)
            logits, self_k, self_v = model.decode_step(torch.from_numpy(tokens)[:, None], torch.tensor(position),
                                                       self_k, self_v, cross_k, cross_v, memory_mask)
            logp_torch = torch.log_softmax(logits, dim=-1).numpy()
            worst = max(worst, float(np.abs(logp_onnx - logp_torch).max()))
            tokens = np.array([int(rng.integers(4, logp_torch.shape[-1]))], dtype=np.int64)
    return worst
