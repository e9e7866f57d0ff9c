"""Render formulas the way web pages show them: MathJax (as on Wikipedia, StackExchange) via node.

Screenshots from the web are a large share of what users feed the model, and MathJax draws TeX
differently from TeX itself (its own fonts, spacing and anti-aliasing). So training also uses
MathJax renders, made by `mathjax/render.mjs` (shipped beside this module): one long-lived node
process (MathJax loads once) that answers one JSON line per formula. The contract matches `render.render_batch`: gray
PNGs, black on white, cropped, `<out_dir>/<key>.png` per success; failures are left out and logged.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from importlib import resources
from pathlib import Path
from typing import IO, Any

from mathlens.synth.render import RenderJob, math_body
from mathlens.errors import RenderError

logger = logging.getLogger(__name__)

INSTALL_HINT = "run scripts/install-web-renderer.sh (needs node and npm)"
# At scale 1 MathJax draws 1 em as 16 px; TeX at 12pt and 100 dpi gives about 16.6 px per em. Ink
# heights against `render_batch(..., dpi=100)` (400 dpi vs scale 4, ten formulas): single glyph rows
# 1.00-1.03x, whole formulas 1.035x (TeX sets limits and lines a bit looser). 1.03 sits between;
# `test_default_scale_matches_tex_at_100_dpi` keeps it honest.
DEFAULT_SCALE = 1.03
# Requests in flight at once: enough to keep node busy, few enough that its answers never fill
# the stdout pipe while we are still writing.
_WINDOW = 32


def renderer_dir() -> Path:
    """Where the renderer's npm packages live: $MATHLENS_MATHJAX_DIR, else ~/.cache/mathlens/mathjax.

    Not in the package: an installed package may be read-only, and node_modules is 60 MB.
    """
    configured = os.environ.get("MATHLENS_MATHJAX_DIR")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "mathlens" / "mathjax"


def packaged_script() -> Path:
    """The renderer script as shipped inside the package."""
    return Path(str(resources.files("mathlens.synth") / "mathjax" / "render.mjs"))


def web_body(job: RenderJob) -> str:
    """The formula as MathJax gets it: `math_body` without the `$` delimiters."""
    return math_body(job)[1:-1]


def web_request(job: RenderJob, out_dir: Path, scale: float) -> dict[str, Any]:
    """One JSON request for the node renderer."""
    return {"key": job.key, "latex": web_body(job), "display": job.kind != "inline",
            "scale": scale, "out": str((out_dir / f"{job.key}.png").resolve())}


def render_web_batch(
    jobs: list[RenderJob],
    out_dir: Path,
    *,
    scale: float = DEFAULT_SCALE,
    timeout_s: float = 600.0,
    install_dir: Path | None = None,
) -> dict[str, Path]:
    """Render jobs with MathJax to `out_dir/<key>.png`; returns key -> path of successes.

    `install_dir` holds the renderer's npm packages (default `renderer_dir()`). Raises
    `RenderError` if node or those packages are missing, if node dies, or if the whole batch takes
    longer than `timeout_s`.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    node, script_path = _check_renderer(install_dir or renderer_dir())
    out_dir.mkdir(parents=True, exist_ok=True)
    if not jobs:
        return {}
    with tempfile.TemporaryFile() as stderr_file:
        session = _NodeSession(node, script_path, stderr_file, timeout_s)
        try:
            done = _stream(session, jobs, out_dir, scale)
        finally:
            session.stop()
    logger.debug("web render: %d of %d formulas (scale %.2f)", len(done), len(jobs), scale)
    return done


def _check_renderer(install_dir: Path) -> tuple[str, Path]:
    """The node binary and the script to run; RenderError if node or the npm packages are missing.

    node resolves a script's imports from the script's own folder, so the packaged script is
    copied next to the packages (again whenever the package's copy changes).
    """
    node = shutil.which("node")
    if node is None:
        raise RenderError(f"node not found: {INSTALL_HINT}")
    if not (install_dir / "node_modules" / "mathjax-full").is_dir():
        raise RenderError(f"MathJax packages are not installed in {install_dir}: {INSTALL_HINT}")
    script = packaged_script().read_bytes()
    script_path = install_dir / "render.mjs"
    if not script_path.is_file() or script_path.read_bytes() != script:
        script_path.write_bytes(script)
    return node, script_path


def _stream(session: _NodeSession, jobs: list[RenderJob], out_dir: Path, scale: float) -> dict[str, Path]:
    """Send jobs with at most `_WINDOW` unanswered and collect the answers, which come in order."""
    done: dict[str, Path] = {}
    waiting: deque[str] = deque()
    for job in jobs:
        if len(waiting) >= _WINDOW:
            _record(session.receive(), waiting.popleft(), out_dir, done)
        session.send(web_request(job, out_dir, scale))
        waiting.append(job.key)
    session.close_input()
    while waiting:
        _record(session.receive(), waiting.popleft(), out_dir, done)
    return done


def _record(answer: dict[str, Any], key: str, out_dir: Path, done: dict[str, Path]) -> None:
    """Note one answer: a success goes into `done`, a failure into the log."""
    if answer.get("key") != key:
        raise RenderError(f"renderer answered for {answer.get('key')!r} while {key!r} was expected")
    if answer.get("ok") is True:
        done[key] = out_dir / f"{key}.png"
    else:
        logger.debug("web render of %s failed: %s", key, answer.get("error"))


class _NodeSession:
    """The node process, a thread that reads its answers, and a watchdog for the time limit."""

    def __init__(self, node: str, script_path: Path, stderr_file: IO[bytes], timeout_s: float) -> None:
        self.stderr_file = stderr_file
        self.timeout_s = timeout_s
        self.proc = subprocess.Popen(
            [node, str(script_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=stderr_file, text=True, encoding="utf-8",
        )
        self.answers: queue.Queue[str | None] = queue.Queue()
        self.timed_out = threading.Event()
        threading.Thread(target=self._read_answers, daemon=True).start()
        self.watchdog = threading.Timer(timeout_s, self._expire)
        self.watchdog.daemon = True
        self.watchdog.start()

    def send(self, request: dict[str, Any]) -> None:
        """Write one request line; RenderError if node has gone away."""
        if self.proc.stdin is None:
            raise RenderError("no pipe to the renderer")
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()  # node must see the request before we wait for its answer
        except (BrokenPipeError, ValueError) as err:  # ValueError: pipe closed by a timeout kill
            raise self._failure(f"could not send to the renderer ({err})") from err

    def receive(self) -> dict[str, Any]:
        """The next answer; RenderError if node died or the time limit passed."""
        line = self.answers.get()
        if line is None:
            raise self._failure("the renderer stopped before answering")
        try:
            answer = json.loads(line)
        except json.JSONDecodeError as err:
            raise self._failure(f"unreadable answer from the renderer: {line[:200]!r}") from err
        if not isinstance(answer, dict):
            raise self._failure(f"unexpected answer from the renderer: {line[:200]!r}")
        return answer

    def close_input(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass

    def stop(self) -> None:
        """Let node finish after a clean run; kill it after a failure."""
        self.watchdog.cancel()
        self.close_input()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _read_answers(self) -> None:
        if self.proc.stdout is not None:
            for line in self.proc.stdout:
                self.answers.put(line)
        self.answers.put(None)  # end of output: node exited or was killed

    def _expire(self) -> None:
        self.timed_out.set()
        self.proc.kill()

    def _failure(self, message: str) -> RenderError:
        if self.timed_out.is_set():
            message = f"web rendering took longer than {self.timeout_s:g} s"
        else:
            self.proc.kill()
        self.proc.wait()
        self.stderr_file.seek(0)
        tail = self.stderr_file.read().decode("utf-8", errors="replace")[-2000:]
        return RenderError(f"{message}; if node cannot load its packages, {INSTALL_HINT}", tail)
