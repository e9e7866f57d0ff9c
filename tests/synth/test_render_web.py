"""The MathJax renderer through the real node process (installed by scripts/install-web-renderer.sh)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mathlens.synth.render import RenderJob, render_batch
from mathlens.synth.render_web import render_web_batch, web_body
from mathlens.errors import RenderError

JOBS = [
    RenderJob("frac", r"\frac{a}{b}+\mathscr{L}+\bm{x}"),
    RenderJob("sum", r"\sum_{i=1}^{n} i^{2} = \frac{n(n+1)(2n+1)}{6}"),
    RenderJob("inline", r"x_i", "inline"),
    RenderJob("one_line", r"a=b", "display"),
    RenderJob("multi", r"a&=b\\c&=d", "multiline", "align"),
    RenderJob("bad", r"x^{2} \nosuchcommand"),
    RenderJob("open_brace", r"x^{2"),
    RenderJob("defines", r"\newcommand{\foo}{y}\foo^{2}"),
    RenderJob("uses_old_definition", r"\foo^{2}"),  # definitions must not leak between formulas
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    return render_web_batch(JOBS, tmp_path_factory.mktemp("web"))


def ink_height(path: Path) -> int:
    ink = np.asarray(Image.open(path).convert("L")) < 128
    rows = np.flatnonzero(ink.any(axis=1))
    return int(rows[-1] - rows[0] + 1)


def test_good_formulas_become_cropped_gray_pngs_and_bad_ones_are_left_out(rendered):
    assert sorted(rendered) == ["defines", "frac", "inline", "multi", "one_line", "sum"]
    for key, path in rendered.items():
        assert path.name == f"{key}.png" and path.exists()
        with Image.open(path) as image:
            gray = np.asarray(image.convert("L"))
        assert 5 <= gray.shape[0] <= 120 and 5 <= gray.shape[1] <= 400, (key, gray.shape)
        assert gray.min() < 60  # black ink ...
        assert (gray[0] == 255).all() and (gray[:, -1] == 255).all()  # ... on white, with a margin
        assert (gray < 128).any(axis=0)[2:-2].mean() > 0.2  # cropped: ink spans the width


def test_multiline_is_taller_than_one_line(rendered):
    assert ink_height(rendered["multi"]) > 1.7 * ink_height(rendered["one_line"])


def test_multiline_body_is_wrapped_without_dollars():
    body = web_body(RenderJob("m", r"a&=b\\c&=d", "multiline", "align"))
    assert body.startswith(r"\displaystyle\begin{aligned}") and "$" not in body
    assert web_body(RenderJob("i", "x", "inline")) == "x"


def test_scale_sets_the_pixel_size(tmp_path):
    job = [RenderJob("f", r"x^{2}+y^{2}=z^{2}")]
    small = render_web_batch(job, tmp_path / "small", scale=1.0)["f"]
    large = render_web_batch(job, tmp_path / "large", scale=2.0)["f"]
    assert 1.8 < ink_height(large) / ink_height(small) < 2.2


@pytest.mark.texlive
def test_default_scale_matches_tex_at_100_dpi(tmp_path, rendered):
    keys = ["frac", "sum", "one_line"]
    tex = render_batch([j for j in JOBS if j.key in keys], tmp_path, dpi=100)
    ratios = [ink_height(tex[k]) / ink_height(rendered[k]) for k in keys]
    assert 0.9 < float(np.mean(ratios)) < 1.12, ratios


def test_missing_renderer_says_how_to_install(tmp_path):
    with pytest.raises(RenderError, match="install-web-renderer.sh"):
        render_web_batch(JOBS[:1], tmp_path, install_dir=tmp_path / "nowhere")


def test_missing_node_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError, match="node not found.*install-web-renderer.sh"):
        render_web_batch(JOBS[:1], tmp_path)


def test_time_limit_stops_node(tmp_path):
    with pytest.raises(RenderError, match="longer than"):
        render_web_batch(JOBS * 20, tmp_path, timeout_s=0.05)


def test_corpus_can_be_rendered_with_mathjax(tmp_path, write_corpus):
    import json

    from mathlens.synth.corpus import CorpusRenderConfig, render_corpus
    from mathlens.data.manifest import read_manifest

    corpus = write_corpus([f"x_{{{i}}}+y^{{{i}}}=z" for i in range(6)])
    cfg = CorpusRenderConfig(corpus, tmp_path / "out", chunk_size=4, num_workers=1, renderer="mathjax")
    records = read_manifest(render_corpus(cfg))
    assert len(records) == 6 and all(r.image_path.exists() for r in records)
    assert all(r.dpi for r in records)  # the training scale augmentation needs it
    assert {json.loads(line)["font"] for line in (tmp_path / "out" / "manifest.jsonl").open()} == {"mathjax"}
