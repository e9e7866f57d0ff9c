"""The exported model on onnxruntime as a `StepModel`: what `mathlens predict` runs (no torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mathlens.errors import CheckpointError

ENCODER_FILE, DECODER_FILE = "encoder.onnx", "decoder.onnx"


class OnnxStepModel:
    def __init__(self, model_dir: Path, num_threads: int = 2, memory_arena: bool = True) -> None:
        """`memory_arena=False` gives each run's buffers back: inputs of ever new sizes (a page's
        formula crops) then stop growing the process, at about 5% of greedy and 25% of beam batch
        throughput (docs/experiments.md, "Memory of page reading")."""
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.enable_cpu_mem_arena = memory_arena
        try:
            self.encoder = ort.InferenceSession(str(model_dir / ENCODER_FILE), opts, providers=["CPUExecutionProvider"])
            self.decoder = ort.InferenceSession(str(model_dir / DECODER_FILE), opts, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types for missing/corrupt files
            raise CheckpointError(f"cannot load ONNX model from {model_dir}: {err}") from None
        shape = self.decoder.get_inputs()[2].shape  # self_k: (L, B, h, T, hd)
        self.cache_shape = (shape[0], shape[2], shape[4])

    def start(self, images: np.ndarray, pixel_mask: np.ndarray) -> dict[str, np.ndarray]:
        cross_k, cross_v, memory_mask = self.encoder.run(None, {"images": images, "pixel_mask": pixel_mask})
        L, h, hd = self.cache_shape
        empty = np.zeros((L, images.shape[0], h, 0, hd), dtype=np.float32)
        return {"self_k": empty, "self_v": empty, "cross_k": cross_k, "cross_v": cross_v, "memory_mask": memory_mask}

    def step(self, state: dict[str, np.ndarray], tokens: np.ndarray, position: int) -> tuple[np.ndarray, Any]:
        log_probs, k, v = self.decoder.run(None, {
            "token": tokens[:, None].astype(np.int64), "position": np.array(position, dtype=np.int64),
            "self_k": state["self_k"], "self_v": state["self_v"], "cross_k": state["cross_k"],
            "cross_v": state["cross_v"], "memory_mask": state["memory_mask"]})
        return log_probs, {**state, "self_k": k, "self_v": v}

    def select(self, state: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
        return {name: (a[rows] if name == "memory_mask" else a[:, rows]) for name, a in state.items()}

    def reorder(self, state: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
        return {**state, "self_k": state["self_k"][:, rows], "self_v": state["self_v"][:, rows]}
