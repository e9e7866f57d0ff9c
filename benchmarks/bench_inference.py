"""Inference benchmark: latency (greedy, beam), batch throughput, peak RSS, model size.

    python benchmarks/bench_inference.py --images ../shared/datasets/im2latex100k/val/images --num 100 \
        [--model-dir DIR ...] [--pattern '*.inkml'] [--views both|on|off] [--views-below 0.6]

Each model directory is measured in the same run, read at several sizes (the default) and once
(`--single-view`), so figures compare like with like. Prints a Markdown table; quote its medians
in BENCHMARKS.md with the command line used.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mathlens.api import Recognizer
from mathlens.config import DecodeConfig
from mathlens.inference.predictor import default_model_dir


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def time_each(recognizer: Recognizer, paths: list[Path]) -> list[float]:
    recognizer.recognize(paths[0])  # warm-up: onnxruntime allocates on the first run
    out = []
    for path in paths:
        start = time.perf_counter()
        recognizer.recognize(path)
        out.append((time.perf_counter() - start) * 1000)
    return out


# The child reports its own high-water mark (VmHWM) at exit. getrusage(RUSAGE_CHILDREN) would not
# do: a child's ru_maxrss starts from this process's peak, inherited through fork and exec, so it
# measured the benchmark (two models loaded, batches decoded) rather than `mathlens predict`.
_REPORT_PEAK = ("import atexit, runpy, sys; atexit.register(lambda: print('VmHWM', [l.split()[1] for l in "
                "open('/proc/self/status') if l.startswith('VmHWM')][0], file=sys.stderr)); "
                "sys.argv = sys.argv[1:]; runpy.run_module('mathlens.cli.main', run_name='__main__')")


def peak_rss_of_cli(model_dir: Path, paths: list[Path], views: bool) -> float:
    """Peak RSS (MB) of a `mathlens predict` process over the given images."""
    flags = [] if views else ["--single-view"]
    run = subprocess.run([sys.executable, "-c", _REPORT_PEAK, "mathlens", "predict", "--model-dir", str(model_dir),
                          *flags, *map(str, paths)], check=True, capture_output=True, text=True)
    kb = next(line.split()[1] for line in run.stderr.splitlines() if line.startswith("VmHWM"))
    return int(kb) / 1024


def images_per_s(recognizer: Recognizer, paths: list[Path]) -> float:
    start = time.perf_counter()
    recognizer.recognize_batch(paths)
    return len(paths) / (time.perf_counter() - start)


def measure(model_dir: Path, paths: list[Path], threads: int, beam: int, views: bool,
            views_below: float = DecodeConfig.views_below) -> dict[str, float | str]:
    greedy = Recognizer(model_dir, num_threads=threads, decode=DecodeConfig(1, views=views, views_below=views_below))
    beamed = Recognizer(model_dir, num_threads=threads, decode=DecodeConfig(beam, views=views, views_below=views_below))
    greedy_ms = time_each(greedy, paths)
    beam_ms = time_each(beamed, paths[: max(10, len(paths) // 2)])
    batch_ips = {name: images_per_s(rec, paths) for name, rec in (("greedy", greedy), ("beam", beamed))}
    size_mb = sum(f.stat().st_size for f in model_dir.iterdir() if f.suffix in {".onnx", ".json"}) / 2**20
    return {"greedy_median_ms": statistics.median(greedy_ms), "greedy_p95_ms": percentile(greedy_ms, 0.95),
            "beam_median_ms": statistics.median(beam_ms), "beam_p95_ms": percentile(beam_ms, 0.95),
            "batch_images_per_s": batch_ips["greedy"], "beam_batch_images_per_s": batch_ips["beam"],
            # `mathlens predict` has no switch for views_below
            "cli_peak_rss_mb": peak_rss_of_cli(model_dir, paths[:20], views) if views_below >= 1.0 else "n/a",
            "model_mb": size_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True, help="folder of formula images")
    parser.add_argument("--pattern", default="*.png", help="which files of the folder ('*.inkml' for ink)")
    parser.add_argument("--views", choices=("both", "on", "off"), default="both",
                        help="read at several sizes (on), once (off), or measure both")
    parser.add_argument("--views-below", type=float, default=DecodeConfig.views_below,
                        help="with views: read the other sizes only below this first-reading confidence")
    parser.add_argument("--num", type=int, default=100)
    parser.add_argument("--model-dir", type=Path, action="append", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=3)
    args = parser.parse_args()
    paths = sorted(args.images.glob(args.pattern), key=lambda p: (len(p.stem), p.stem))[: args.num]
    on = (f"views below {args.views_below:g}" if args.views_below < 1.0 else "views", True, args.views_below)
    off = ("single view", False, 1.0)
    settings = {"both": (on, off), "on": (on,), "off": (off,)}[args.views]
    rows = {f"{d} ({label})": measure(d, paths, args.threads, args.beam, views, below)
            for d in (args.model_dir or [default_model_dir()]) for label, views, below in settings}
    keys = list(next(iter(rows.values())))
    print(f"{len(paths)} images from {args.images}, {args.threads} threads, beam {args.beam}\n")
    print("| model | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[k]:.1f}" if isinstance(row[k], float) else str(row[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
