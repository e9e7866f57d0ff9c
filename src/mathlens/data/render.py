"""Render many formulas with real TeX Live: one `latex` and one `dvipng` call per chunk.

Each formula is one page of a `preview` document, so a chunk of hundreds of formulas costs two
process starts; pages map back to formulas by order. A formula whose page TeX reports as broken
is left out rather than saved with a wrong picture.
"""

from __future__ import annotations

import logging
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mathlens.errors import RenderError

logger = logging.getLogger(__name__)

Kind = Literal["inline", "display", "multiline"]

# Font setups available from Debian's texlive-fonts-recommended / -latex-extra.
FONT_PREAMBLES: dict[str, str] = {
    "cm": "",
    "lmodern": "\\usepackage{lmodern}",
    "times": "\\usepackage{mathptmx}",
    "txfonts": "\\usepackage{txfonts}",
    "palatino": "\\usepackage{mathpazo}",
    "pxfonts": "\\usepackage{pxfonts}",
    "euler": "\\usepackage{euler}",
    "sans": "\\usepackage{helvet}\\usepackage[helvet]{sfmath}\\renewcommand{\\familydefault}{\\sfdefault}",
}
PREAMBLE = (
    "\\documentclass[12pt]{{article}}\n\\usepackage{{amsmath,amssymb,amsfonts,mathrsfs,bm}}\n"
    "{fonts}\n\\usepackage[active,tightpage]{{preview}}\n\\pagestyle{{empty}}\n"
    "\\begin{{document}}\n"
)
_ENV_FOR_RENDER = {"align": "aligned", "eqnarray": "aligned", "gather": "gathered",
                   "multline": "gathered", "flalign": "aligned", "alignat": "aligned"}
_PAGE_ERROR_RE = re.compile(r"^! ", re.MULTILINE)


@dataclass(frozen=True)
class RenderJob:
    """One formula to draw: `kind` and `render_env` come from the corpus columns."""

    key: str
    latex: str
    kind: Kind = "display"
    render_env: str = "display"


def math_body(job: RenderJob) -> str:
    """Wrap a formula so that every kind typesets as one inline box (one preview page)."""
    if job.kind == "inline":
        return f"${job.latex}$"
    if job.kind == "multiline" and job.render_env == "display":  # self-contained split/aligned
        return f"$\\displaystyle {job.latex.replace('{split}', '{aligned}')}$"
    if job.kind == "multiline":
        env = _ENV_FOR_RENDER.get(job.render_env.split("{")[0], "aligned")
        body = job.latex.replace("&&", "&") if env == "aligned" else job.latex.replace("&", "")
        return f"$\\displaystyle\\begin{{{env}}}{body}\\end{{{env}}}$"
    return f"$\\displaystyle {job.latex}$"


def render_batch(
    jobs: list[RenderJob],
    out_dir: Path,
    *,
    font: str = "cm",
    dpi: int = 160,
    timeout_s: float = 600.0,
) -> dict[str, Path]:
    """Render jobs to `out_dir/<key>.png` (gray, black on white); returns key -> path of successes.

    TeX gives up after 100 errors, so pages after that point are rendered again in a new pass.
    """
    if font not in FONT_PREAMBLES:
        raise ValueError(f"unknown font {font!r}; choose from {sorted(FONT_PREAMBLES)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    done: dict[str, Path] = {}
    while jobs:
        passed, seen = _render_pass(jobs, out_dir, font, dpi, timeout_s)
        done.update(passed)
        if seen == 0:
            break
        jobs = jobs[seen:]
    return done


def _render_pass(
    jobs: list[RenderJob], out_dir: Path, font: str, dpi: int, timeout_s: float
) -> tuple[dict[str, Path], int]:
    """One latex + dvipng run; returns the good pages and how many pages TeX got through."""
    with tempfile.TemporaryDirectory(prefix="mathlens-render-") as tmp:
        tmp_dir = Path(tmp)
        pages = [f"\\begin{{preview}}{math_body(j)}\\end{{preview}}\n\\message{{[MLPAGE]}}\n"
                 for j in jobs]
        tex = PREAMBLE.format(fonts=FONT_PREAMBLES[font]) + "".join(pages) + "\\end{document}\n"
        (tmp_dir / "f.tex").write_text(tex, encoding="utf-8")
        proc = subprocess.run(
            ["latex", "-interaction=nonstopmode", "-no-shell-escape", "-halt-on-error=false", "f.tex"],
            cwd=tmp_dir, capture_output=True, timeout=timeout_s, text=True, errors="replace",
        )
        log = (tmp_dir / "f.log").read_text(errors="replace") if (tmp_dir / "f.log").exists() else ""
        if not (tmp_dir / "f.dvi").exists():
            raise RenderError("latex produced no DVI", (log or proc.stdout)[-2000:])
        broken, seen = _broken_pages(log, len(jobs))
        subprocess.run(
            ["dvipng", "-q", "-D", str(dpi), "-T", "tight", "-bg", "White", "-z", "3",
             "--gamma", "1.5", "-o", str(tmp_dir / "p%d.png"), "f.dvi"],
            cwd=tmp_dir, capture_output=True, timeout=timeout_s, check=False,
        )
        done: dict[str, Path] = {}
        for page, job in enumerate(jobs, start=1):
            src = tmp_dir / f"p{page}.png"
            if page > seen or page - 1 in broken or not src.exists():
                continue
            dst = out_dir / f"{job.key}.png"
            src.replace(dst)
            done[job.key] = dst
    logger.debug("pass: %d of %d pages seen, %d rendered (%s, %d dpi)", seen, len(jobs), len(done),
                 font, dpi)
    return done, seen


def _broken_pages(log: str, num_pages: int) -> tuple[set[int], int]:
    """Pages whose stretch of the log contains a TeX error, and how many pages completed.

    A page that TeX abandoned (the 100-error stop) counts as seen and broken, so the next pass
    starts after it.
    """
    chunks = log.split("[MLPAGE]")
    completed = min(len(chunks) - 1, num_pages)
    broken = {page for page, chunk in enumerate(chunks[:completed]) if _PAGE_ERROR_RE.search(chunk)}
    if completed < num_pages:
        broken.add(completed)
        completed += 1
    return broken, completed
