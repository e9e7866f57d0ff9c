"""Where training time goes: padding in the batches, data loading, and the model's forward+backward.

    python benchmarks/bench_training_batches.py --config configs/finetune_small.yaml
    python benchmarks/bench_training_batches.py --compile --timed 10   # eager against torch.compile
    python benchmarks/bench_training_batches.py --bf16 --timed 6       # fp32 against bf16 autocast

The pixel utilisation printed here is the share of encoder input that is real image: with
batches bucketed by target length alone (`--set data.bucket_by_size=false`) one tall or wide
image pads every other image in its batch.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from mathlens.cli.train import load_config
from mathlens.registry import model_config
from mathlens.models.im2latex import Im2Latex
from mathlens.tokenizer.vocab import Vocab
from mathlens.training.datamodule import FormulaDataModule


def median_seconds(fn, repeats: int = 4) -> float:
    """Median wall time of `fn` over `repeats` calls; call it once first to warm up."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=Path("configs/finetune_small.yaml"))
    parser.add_argument("--batches", type=int, default=25)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile(dynamic=True)")
    parser.add_argument("--bf16", action="store_true",
                        help="also time bf16 autocast (precision: bf16-mixed), which pays only with native bf16")
    parser.add_argument("--timed", type=int, default=3, help="batches to time forward+backward on")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="as in mathlens train")
    args = parser.parse_args()
    cfg = load_config(args.config, args.set)
    vocab = Vocab.load(cfg.vocab_path) if cfg.vocab_path is not None else Vocab.shipped()
    model = Im2Latex(model_config(cfg.variant, len(vocab))).train()
    dm = FormulaDataModule(replace(cfg.data, num_workers=0), vocab, model.cfg.preprocess, seed=cfg.seed)
    dm.setup()

    utilisation, samples, batches = [], 0, []
    start = time.perf_counter()
    for batch in dm.train_dataloader():
        mask = batch.pixel_mask.numpy()
        utilisation.append(mask.sum() / mask.size)
        samples += len(batch)
        batches.append(batch)
        if len(batches) == args.batches:
            break
    load_ms = (time.perf_counter() - start) / samples * 1000
    print(f"{len(batches)} batches, {samples} samples, torch threads {torch.get_num_threads()}")
    print(f"pixel utilisation: mean {np.mean(utilisation):.3f}, median {np.median(utilisation):.3f}")
    print(f"data loading and augmentation, one process: {load_ms:.1f} ms/sample")

    model.encoder.stages.to(memory_format=torch.channels_last)  # as training does
    runs = {"eager": (model, False)}
    if args.compile:
        runs["compiled"] = (torch.compile(model, dynamic=True), False)
    if args.bf16:
        runs["eager bf16"] = (model, True)

    def step(net, batch, bf16: bool) -> None:
        net.zero_grad()
        images = batch.images.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = net(images, batch.pixel_mask, batch.tgt_in)
        logits.float().logsumexp(-1).mean().backward()

    for name, (net, bf16) in runs.items():
        for batch, useful in zip(batches[: args.timed], utilisation):
            start = time.perf_counter()
            step(net, batch, bf16)  # a new shape: the compiled model compiles again (TORCH_LOGS=recompiles says why)
            first = time.perf_counter() - start
            seconds = median_seconds(lambda: step(net, batch, bf16))
            print(f"{name} batch {tuple(batch.images.shape)} T={batch.tgt_in.shape[1]}: first call {first:.1f} s, "
                  f"then forward+backward {seconds:.2f} s, {len(batch) / seconds:.1f} samples/s, "
                  f"{useful:.0%} of its pixels are image")


if __name__ == "__main__":
    main()
