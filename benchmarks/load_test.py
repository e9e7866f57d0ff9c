"""Load test of `mathlens serve`: throughput, latency percentiles, errors, server memory.

    mathlens serve &                                   # or let --spawn start (and stop) one
    python benchmarks/load_test.py                     # 2000 requests, 16 at a time
    python benchmarks/load_test.py --spawn --requests 50 --concurrency 8 --images examples

Bounded: a fixed number of requests, a time cap (--max-seconds), and loopback addresses only;
it refuses any other target. Server memory comes from /proc/PID (--pid, or the spawned server)
or else from the server's /v1/stats. Quote the printed figures with the command line used.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import ipaddress
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parents[1]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def add(self, status: str, ms: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == "200":
            self.latencies_ms.append(ms)

    @property
    def num_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "200")


def require_loopback(url: str) -> None:
    """This tool only ever loads a server on this machine (names other than localhost are not even resolved)."""
    host = urlsplit(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        sys.exit(f"load_test: refusing {url}: only loopback addresses (127.0.0.0/8, ::1, localhost) may be targeted")


def load_images(paths: list[Path]) -> list[bytes]:
    files = [p for path in paths for p in (sorted(path.rglob("*")) if path.is_dir() else [path])
             if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    if not files:
        sys.exit("load_test: no images found")
    return [p.read_bytes() for p in files]


def rss_bytes(url: str, pid: int | None) -> int | None:
    if pid is not None:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
    try:
        return int(httpx.get(url + "/v1/stats", timeout=10).json()["rss_bytes"])
    except (httpx.HTTPError, KeyError, ValueError):
        return None


def server_stats(url: str) -> dict:
    try:
        return httpx.get(url + "/v1/stats", timeout=10).json()
    except (httpx.HTTPError, ValueError):
        return {}


async def run_load(url: str, images: list[bytes], num_requests: int, concurrency: int, mode: str,
                   timeout_s: float, max_seconds: float) -> tuple[Results, float]:
    results, next_index = Results(), 0
    deadline = time.monotonic() + max_seconds
    encoded = [base64.b64encode(image).decode() for image in images]

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_index
        while next_index < num_requests and time.monotonic() < deadline:
            i, next_index = next_index, next_index + 1
            kwargs = ({"files": {"file": (f"{i}.png", images[i % len(images)], "image/png")}} if mode == "multipart"
                      else {"json": {"image_base64": encoded[i % len(encoded)]}})
            start = time.perf_counter()
            try:
                status = str((await client.post(url + "/v1/recognize", **kwargs)).status_code)
            except httpx.HTTPError as err:
                status = type(err).__name__
            results.add(status, (time.perf_counter() - start) * 1000)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return results, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def spawn_server(extra_args: list[str]) -> tuple[subprocess.Popen, str]:
    """`mathlens serve` on a free loopback port; waits (bounded) until /health answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "mathlens.cli.main", "-q", "serve", "--port", str(port),
                                *extra_args])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    sys.exit("load_test: the spawned server did not become healthy")


def report(args: argparse.Namespace, results: Results, seconds: float, rss: tuple[int | None, int | None],
           before: dict, after: dict) -> dict:
    lat = results.latencies_ms
    batches = after.get("num_batches", 0) - before.get("num_batches", 0)
    images = after.get("num_images", 0) - before.get("num_images", 0)
    done = len(lat) + results.num_errors
    return {"requests": done, "concurrency": args.concurrency, "mode": args.mode, "seconds": round(seconds, 2),
            "throughput_rps": round(done / seconds, 2) if seconds else None, "errors": results.num_errors,
            "statuses": results.statuses, "p50_ms": round(percentile(lat, 0.50), 1),
            "p95_ms": round(percentile(lat, 0.95), 1), "p99_ms": round(percentile(lat, 0.99), 1),
            "mean_batch_size": round(images / batches, 2) if batches else None,
            "rss_before_mb": round(rss[0] / 2**20, 1) if rss[0] else None,
            "rss_after_mb": round(rss[1] / 2**20, 1) if rss[1] else None}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8000", help="server base URL (loopback only)")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--images", type=Path, nargs="+", default=[REPO / "tests" / "fixtures" / "quadratic.png"],
                   help="image files or directories, sent in turn")
    p.add_argument("--mode", choices=["multipart", "base64"], default="multipart")
    p.add_argument("--pid", type=int, default=None, help="server process id, for its RSS from /proc")
    p.add_argument("--timeout-s", type=float, default=60.0, help="per-request client timeout")
    p.add_argument("--max-seconds", type=float, default=900.0, help="stop sending after this long, whatever is left")
    p.add_argument("--spawn", action="store_true", help="start `mathlens serve` here for the run, then stop it")
    p.add_argument("--serve-args", default="", help="extra `mathlens serve` flags with --spawn, e.g. '--max-batch 8'")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    args = p.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        p.error("--requests and --concurrency must be positive")

    process = None
    if args.spawn:
        process, args.url = spawn_server(args.serve_args.split())
        args.pid = process.pid
    require_loopback(args.url)
    try:
        images = load_images(args.images)
        before, rss_before = server_stats(args.url), rss_bytes(args.url, args.pid)
        results, seconds = asyncio.run(run_load(args.url, images, args.requests, args.concurrency, args.mode,
                                                args.timeout_s, args.max_seconds))
        after, rss_after = server_stats(args.url), rss_bytes(args.url, args.pid)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    summary = report(args, results, seconds, (rss_before, rss_after), before, after)
    print(json.dumps(summary) if args.json else "\n".join(f"{k:>16}: {v}" for k, v in summary.items()))
    return 1 if results.num_errors else 0


if __name__ == "__main__":
    sys.exit(main())
