"""`mathlens batch PATH [PATH ...] --output out.jsonl`: large image sets on a Ray cluster (Ray Data).

Same inputs, records, resume rule (failed inputs are tried again) and exit codes as `mathlens
predict --output`, but the model copies are Ray actors, on this machine or across a cluster
(--address). Needs the ray extra.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mathlens.cli import add_decode_arguments
from mathlens.cli.backend import add_backend_arguments, vlm_config
from mathlens.errors import MathlensError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("batch", help="recognize many images with Ray Data (needs: pip install 'mathlens[ray]')")
    p.add_argument("paths", nargs="+", type=Path, help="files or directories (walked recursively)")
    p.add_argument("--output", type=Path, required=True,
                   help="append results to this .jsonl or .csv file; a rerun skips the inputs already read "
                        "and tries the failed ones again")
    p.add_argument("--address", default=None,
                   help="Ray cluster to use: 'auto' (one started with `ray start` on this machine) or "
                        "ray://HEAD:10001; default: start a local Ray instance for this run")
    p.add_argument("--actors", type=int, default=None,
                   help="model copies running at once (default: as many as the cluster's CPUs allow)")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads per actor")
    p.add_argument("--cpus-per-actor", type=float, default=None,
                   help="CPUs Ray reserves per actor (default: --threads)")
    p.add_argument("--batch-size", type=int, default=32, help="images per actor call")
    add_decode_arguments(p)
    p.add_argument("--model-dir", type=Path, default=None, help="exported model directory (default: shipped model)")
    p.add_argument("--gpus-per-actor", type=float, default=None,
                   help="GPUs Ray reserves per actor (with --backend vlm, 1 puts one model copy on each GPU)")
    add_backend_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import ray
    except ImportError:
        raise MathlensError("batch needs the ray extra: pip install 'mathlens[ray]'") from None

    from mathlens.cli.predict import find_inputs
    from mathlens.config import DecodeConfig
    from mathlens.jobs.ray_batch import predict_dataset

    if args.beam < 1 or args.threads < 1 or args.batch_size < 1 or (args.actors is not None and args.actors < 1):
        raise MathlensError("--beam, --threads, --batch-size and --actors must be at least 1")
    if args.gpus_per_actor is not None and args.gpus_per_actor < 0:
        raise MathlensError("--gpus-per-actor must not be negative")
    vlm = vlm_config(args)
    inputs = find_inputs(args.paths)
    started_local = not ray.is_initialized() and args.address is None
    try:
        ray.init(address=args.address or "local", ignore_reinit_error=True)
    except ConnectionError as err:
        raise MathlensError(f"cannot reach a Ray cluster at {args.address!r}: {err}") from None
    try:
        cpus = args.cpus_per_actor if args.cpus_per_actor is not None else float(args.threads)
        num_actors = args.actors or max(1, int(ray.cluster_resources().get("CPU", 1) // (cpus if cpus > 0 else 1)))
        summary = predict_dataset(inputs, args.output, model_dir=args.model_dir,
                                  decode=DecodeConfig(beam_size=args.beam, views=args.views), num_actors=num_actors,
                                  num_threads=args.threads, num_cpus_per_actor=args.cpus_per_actor,
                                  batch_size=args.batch_size, vlm=vlm, num_gpus_per_actor=args.gpus_per_actor)
    finally:
        if started_local:
            ray.shutdown()
    print(f"mathlens: {summary.describe(args.output)} ({summary.num_actors} actor(s), {summary.seconds:g} s)",
          file=sys.stderr)
    return 2 if summary.num_failed else 0
