"""`mathlens serve`: the HTTP API (FastAPI under uvicorn) with the shipped or a given model.

With --ray, the same API on --replicas N copies of the model under Ray Serve, on a local Ray
instance or a cluster (--address); see docs/ray.md.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from mathlens.cli.backend import add_backend_arguments, vlm_predictor
from mathlens.config import ServeConfig
from mathlens.errors import MathlensError

logger = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    d = ServeConfig()
    p = sub.add_parser("serve", help="serve the HTTP API (needs the serve extra: pip install 'mathlens[serve]')")
    p.add_argument("--host", default=d.host, help=f"address to listen on (default {d.host}: this machine only)")
    p.add_argument("--port", type=int, default=d.port, help=f"TCP port (default {d.port})")
    p.add_argument("--model-dir", type=Path, default=None, help="exported model directory (default: shipped model)")
    p.add_argument("--threads", type=int, default=d.threads, help="CPU threads for onnxruntime and preprocessing")
    p.add_argument("--max-batch", type=int, default=d.max_batch, help="most images decoded in one model call")
    p.add_argument("--batch-wait-ms", type=float, default=d.batch_wait_ms,
                   help="how long the first queued request waits for others to join its batch")
    p.add_argument("--max-upload-mb", type=float, default=d.max_upload_mb, help="largest image upload (413 beyond)")
    p.add_argument("--max-pixels", type=int, default=d.max_pixels, help="largest image in pixels, 422 beyond (default: preprocessing's limit, 50 megapixels)")
    p.add_argument("--timeout-s", type=float, default=d.timeout_s, help="per-request time limit (504 beyond)")
    p.add_argument("--beam", type=int, default=d.beam, help=f"beam size of requests that do not say (default {d.beam})")
    p.add_argument("--max-beam", type=int, default=d.max_beam, help="largest beam size a request may ask for")
    p.add_argument("--single-view", dest="views", action="store_false",
                   help="read each input once, at one size: over twice the throughput, fewer formulas right")
    page = p.add_argument_group("pages (POST /v1/page; needs the page extra)")
    page.add_argument("--max-page-upload-mb", type=float, default=d.max_page_upload_mb,
                      help="largest page image or PDF upload (413 beyond)")
    page.add_argument("--max-pdf-pages", type=int, default=d.max_pdf_pages,
                      help="most PDF pages one request may read (413 beyond; a request picks pages with `pages`)")
    page.add_argument("--page-dpi", type=float, default=d.page_dpi, help="dpi PDF pages are rendered at unless the request says")
    page.add_argument("--page-timeout-s", type=float, default=d.page_timeout_s, help="per-request time limit for pages (504 beyond)")
    ray = p.add_argument_group("Ray Serve (needs the ray extra: pip install 'mathlens[serve,ray]')")
    ray.add_argument("--ray", action="store_true", help="serve with Ray Serve, as --replicas copies of the model")
    ray.add_argument("--replicas", type=int, default=None, help="with --ray: number of replicas (default 1)")
    ray.add_argument("--address", default=None,
                     help="with --ray: Ray cluster to join: 'auto' (one started with `ray start` on this machine) "
                          "or ray://HEAD:10001; default: start a local Ray instance")
    ray.add_argument("--cpus-per-replica", type=float, default=None,
                     help="with --ray: CPUs Ray reserves for each replica (default: --threads)")
    add_backend_arguments(p)
    p.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> ServeConfig:
    """CLI flags -> ServeConfig, refusing values that cannot work (exit code 2, not a traceback)."""
    cfg = ServeConfig(host=args.host, port=args.port, model_dir=args.model_dir, threads=args.threads,
                      max_batch=args.max_batch, batch_wait_ms=args.batch_wait_ms, max_upload_mb=args.max_upload_mb,
                      max_pixels=args.max_pixels, timeout_s=args.timeout_s, beam=args.beam, max_beam=args.max_beam,
                      views=args.views, max_page_upload_mb=args.max_page_upload_mb,
                      max_pdf_pages=args.max_pdf_pages, page_dpi=args.page_dpi, page_timeout_s=args.page_timeout_s)
    positive = {"--port": cfg.port, "--threads": cfg.threads, "--max-batch": cfg.max_batch,
                "--max-upload-mb": cfg.max_upload_mb, "--max-pixels": cfg.max_pixels, "--timeout-s": cfg.timeout_s,
                "--beam": cfg.beam, "--max-beam": cfg.max_beam, "--max-page-upload-mb": cfg.max_page_upload_mb,
                "--max-pdf-pages": cfg.max_pdf_pages, "--page-dpi": cfg.page_dpi, "--page-timeout-s": cfg.page_timeout_s}
    bad = [name for name, value in positive.items() if value is not None and value <= 0] + (["--batch-wait-ms"] if cfg.batch_wait_ms < 0 else [])
    if bad:
        raise MathlensError(f"must be positive: {', '.join(bad)}")
    if cfg.beam > cfg.max_beam:
        raise MathlensError(f"--beam {cfg.beam} is above --max-beam {cfg.max_beam}")
    return cfg


def run(args: argparse.Namespace) -> int:
    ray_only = {"--replicas": args.replicas, "--address": args.address, "--cpus-per-replica": args.cpus_per_replica}
    if not args.ray and any(v is not None for v in ray_only.values()):
        raise MathlensError(f"{', '.join(k for k, v in ray_only.items() if v is not None)}: only with --ray")
    if args.ray:
        return run_ray(args)
    try:
        import uvicorn
    except ImportError:
        raise MathlensError("the server needs the serve extra: pip install 'mathlens[serve]'") from None

    from mathlens.inference.predictor import Predictor
    from mathlens.server.app import create_app

    cfg = config_from_args(args)
    if not args.quiet and not args.verbose:
        logging.getLogger().setLevel(logging.INFO)  # a server should say where it listens
    predictor = vlm_predictor(args) or Predictor(cfg.model_dir, num_threads=cfg.threads, max_batch_size=cfg.max_batch)
    app = create_app(predictor, cfg)
    logger.info("serving %s on http://%s:%d (docs at /docs)", predictor.model_dir, cfg.host, cfg.port)
    # log_config=None: uvicorn logs through the handlers the CLI configured (stderr); no access
    # log unless -v, since one line per request costs CPU under load.
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_config=None, access_log=bool(args.verbose),
                timeout_graceful_shutdown=5)
    return 0


def run_ray(args: argparse.Namespace) -> int:
    """`mathlens serve --ray`: the same app on Ray Serve replicas, until Ctrl-C."""
    if args.backend != "onnx":
        raise MathlensError("--ray serves the small model; serve a VLM with `mathlens serve --backend vlm` or vLLM "
                            "(docs/vlm.md)")
    cfg = config_from_args(args)
    num_replicas = 1 if args.replicas is None else args.replicas
    if num_replicas < 1 or (args.cpus_per_replica is not None and args.cpus_per_replica < 0):
        raise MathlensError("--replicas must be at least 1 and --cpus-per-replica not negative")
    try:
        from mathlens.server.ray_app import serve_until_interrupted
    except ImportError as err:
        raise MathlensError(f"--ray needs the serve and ray extras: pip install 'mathlens[serve,ray]' "
                            f"({err})") from None
    if not args.quiet and not args.verbose:
        logging.getLogger().setLevel(logging.INFO)
    serve_until_interrupted(cfg, num_replicas, address=args.address, num_cpus_per_replica=args.cpus_per_replica,
                            access_log=bool(args.verbose))
    return 0
