"""Does the output compile? Each formula typeset by TeX Live and rendered by KaTeX.

The README promises LaTeX a user can paste: into a document (TeX Live, with amsmath and
amssymb as the training renders use) or a web page (KaTeX, the web page's own preview). Both
checks run the real renderers; a formula either renders or comes back with the reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from mathlens.errors import RenderError
from mathlens.synth.render import RenderJob, render_batch

KATEX_HINT = "run scripts/install-web-assets.sh (KaTeX) with node installed"


def tex_failures(formulas: Sequence[str]) -> list[bool]:
    """True where TeX Live cannot typeset the formula as a display (`synth.render`'s preamble)."""
    jobs = [RenderJob(f"f{i}", f) for i, f in enumerate(formulas)]
    with tempfile.TemporaryDirectory() as tmp:
        done = set(render_batch(jobs, Path(tmp), dpi=30))
        # A page TeX chokes on can take its neighbours down: each failure is tried once more alone.
        done |= {job.key for job in jobs if job.key not in done and _alone(job, Path(tmp))}
    return [job.key not in done for job in jobs]


def _alone(job: RenderJob, out_dir: Path) -> bool:
    try:
        return bool(render_batch([job], out_dir, dpi=30))
    except RenderError:  # not even a page came out
        return False


def katex_errors(formulas: Sequence[str], timeout_s: float = 300.0) -> list[str | None]:
    """KaTeX's error message for each formula it cannot render (display mode), None for the others."""
    node = shutil.which("node")
    katex = Path(str(resources.files("mathlens.server") / "static" / "vendor" / "katex" / "katex.min.js"))
    if node is None or not katex.is_file():
        raise RenderError(f"KaTeX check needs node and {katex}: {KATEX_HINT}")
    script = Path(str(resources.files("mathlens.metrics") / "katex_check.cjs"))
    result = subprocess.run([node, str(script), str(katex)], input=json.dumps(list(formulas)), capture_output=True,
                            text=True, timeout=timeout_s)
    if result.returncode != 0:
        raise RenderError("the KaTeX check failed", result.stderr[-2000:])
    return json.loads(result.stdout)
