"""Render many formulas with real TeX Live: one TeX run and one rasterizer call per chunk.

Each formula is one page of a `preview` document, so a chunk of hundreds of formulas costs two
process starts; pages map back to formulas by order. A formula whose page TeX reports as broken
is left out rather than saved with a wrong picture. Type 1 font setups go `latex` -> `dvipng`;
OpenType ones (Linux Libertine, which Debian ships only as system fonts) go `xelatex` ->
`pdftoppm`.
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

Engine = Literal["latex", "xelatex"]


@dataclass(frozen=True)
class FontSetup:
    """Preamble lines for one font family, and the TeX engine that can load them."""

    preamble: str
    engine: Engine = "latex"


def _libertine(family: str) -> FontSetup:
    """Libertine letters and digits in math (mathastext), symbols and Greek from Computer Modern."""
    return FontSetup(f"\\usepackage{{fontspec}}\\setmainfont{{{family}}}\\usepackage[italic]{{mathastext}}",
                     "xelatex")


# Font setups from Debian's texlive-fonts-recommended / -latex-extra, texlive-xetex and
# fonts-linuxlibertine (scripts/install-deps.sh installs them all).
FONTS: dict[str, FontSetup] = {
    "cm": FontSetup(""),
    "lmodern": FontSetup("\\usepackage{lmodern}"),
    "times": FontSetup("\\usepackage{mathptmx}"),
    "txfonts": FontSetup("\\usepackage{txfonts}"),
    "palatino": FontSetup("\\usepackage{mathpazo}"),
    "pxfonts": FontSetup("\\usepackage{pxfonts}"),
    "euler": FontSetup("\\usepackage{euler}"),
    "sans": FontSetup("\\usepackage{helvet}\\usepackage[helvet]{sfmath}"
                      "\\renewcommand{\\familydefault}{\\sfdefault}"),
    "libertine": _libertine("Linux Libertine O"),
    "biolinum": _libertine("Linux Biolinum O"),
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
    if font not in FONTS:
        raise ValueError(f"unknown font {font!r}; choose from {sorted(FONTS)}")
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
    """One TeX run and one rasterizer run; returns the good pages and how many pages TeX got through."""
    with tempfile.TemporaryDirectory(prefix="mathlens-render-") as tmp:
        output, broken, seen = typeset_pages([math_body(j) for j in jobs], Path(tmp), FONTS[font], timeout_s)
        pngs = _rasterize(output, dpi, timeout_s)
        done: dict[str, Path] = {}
        for page, job in enumerate(jobs, start=1):
            src = pngs.get(page)
            if page > seen or page - 1 in broken or src is None:
                continue
            dst = out_dir / f"{job.key}.png"
            src.replace(dst)
            done[job.key] = dst
    logger.debug("pass: %d of %d pages seen, %d rendered (%s, %d dpi)", seen, len(jobs), len(done),
                 font, dpi)
    return done, seen


def typeset_pages(bodies: list[str], folder: Path, setup: FontSetup, timeout_s: float) -> tuple[Path, set[int], int]:
    """One TeX run, one preview page per math body, in `folder`.

    Returns the DVI or PDF, the pages TeX reported broken and how many pages it got through.
    """
    pages = "".join(f"\\begin{{preview}}{body}\\end{{preview}}\n\\message{{[MLPAGE]}}\n" for body in bodies)
    (folder / "f.tex").write_text(PREAMBLE.format(fonts=setup.preamble) + pages + "\\end{document}\n",
                                  encoding="utf-8")
    proc = subprocess.run(
        [setup.engine, "-interaction=nonstopmode", "-no-shell-escape", "-halt-on-error=false", "f.tex"],
        cwd=folder, capture_output=True, timeout=timeout_s, text=True, errors="replace",
    )
    log = (folder / "f.log").read_text(errors="replace") if (folder / "f.log").exists() else ""
    output = folder / ("f.dvi" if setup.engine == "latex" else "f.pdf")
    if not output.exists():
        raise RenderError(f"{setup.engine} produced no {output.suffix[1:].upper()}", (log or proc.stdout)[-2000:])
    return output, *broken_pages(log, len(bodies))


def _rasterize(output: Path, dpi: int, timeout_s: float) -> dict[int, Path]:
    """Page number -> PNG (black on white) for a DVI (dvipng) or a PDF (pdftoppm)."""
    folder = output.parent
    if output.suffix == ".dvi":
        command = ["dvipng", "-q", "-D", str(dpi), "-T", "tight", "-bg", "White", "-z", "3",
                   "--gamma", "1.5", "-o", str(folder / "p-%d.png"), output.name]
    else:  # the preview package already crops each page to its formula
        command = ["pdftoppm", "-r", str(dpi), "-gray", "-png", output.name, str(folder / "p")]
    subprocess.run(command, cwd=folder, capture_output=True, timeout=timeout_s, check=False)
    return {int(png.stem.split("-")[-1]): png for png in folder.glob("p-*.png")}


def broken_pages(log: str, num_pages: int) -> tuple[set[int], int]:
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
