"""Shared fixtures: tiny real files and a tiny model, so the suite stays fast on a CPU."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent

TINY_FORMULAS = [
    r"x^{2}+y^{2}=z^{2}", r"\frac{a}{b}", r"\sqrt{x+1}", r"\alpha+\beta=\gamma", r"e^{i\pi}+1=0",
    r"\sum_{i=1}^{n}i", r"\int_{0}^{1}f(x)\,dx", r"a_{n+1}=2a_{n}", r"\sin^{2}\theta+\cos^{2}\theta=1",
    r"f(x)=\frac{1}{1+e^{-x}}", r"\lim_{x\to0}\frac{\sin x}{x}=1", r"(a+b)^{2}", r"\left(\frac{x}{2}\right)",
    r"A\cup B", r"\mathbb{R}^{n}", r"\hat{y}=Wx+b", r"\binom{n}{k}", r"x_{1},\ldots,x_{n}", r"\nabla f",
    r"\begin{pmatrix}a&b\\c&d\end{pmatrix}",
]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A TeX test without TeX Live fails in CI (CI installs it) and is skipped, with the reason, elsewhere."""
    if "texlive" in item.keywords and shutil.which("latex") is None:
        message = "TeX Live missing: run scripts/install-deps.sh"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def tiny_vocab():
    from mathlens.tokenizer.normalize import normalize
    from mathlens.tokenizer.vocab import Vocab

    return Vocab.build((normalize(f) for f in TINY_FORMULAS), min_count=1)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_vocab) -> Path:
    import torch

    from mathlens import checkpoint
    from mathlens.models.im2latex import Im2Latex
    from mathlens.registry import model_config

    torch.manual_seed(0)
    model = Im2Latex(model_config("tiny", len(tiny_vocab)))
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    checkpoint.save(checkpoint.Checkpoint(model.cfg, tiny_vocab, model.state_dict()), path)
    return path


@pytest.fixture(scope="session")
def tiny_onnx_dir(tmp_path_factory, tiny_checkpoint) -> Path:
    from mathlens.export.onnx import export

    return export(tiny_checkpoint, tmp_path_factory.mktemp("onnx")).out_dir


@pytest.fixture(scope="session")
def both_ways_onnx_dir(tmp_path_factory, tiny_onnx_dir) -> Path:
    """The tiny model's weights, declared as trained in both directions (beam search rescores)."""
    out = tmp_path_factory.mktemp("both_ways")
    for f in tiny_onnx_dir.iterdir():
        shutil.copy(f, out / f.name)
    meta = json.loads((out / "model.json").read_text())
    meta["model_config"]["decoder"]["right_to_left"] = True
    (out / "model.json").write_text(json.dumps(meta))
    return out


@pytest.fixture(scope="session")
def rendered_dir(tmp_path_factory) -> Path:
    """TINY_FORMULAS rendered by real TeX Live, with a manifest."""
    from mathlens.data.manifest import Record, write_manifest
    from mathlens.synth.render import RenderJob, render_batch
    from mathlens.tokenizer.normalize import normalize

    out = tmp_path_factory.mktemp("rendered")
    jobs = [RenderJob(f"f{i:02d}", f) for i, f in enumerate(TINY_FORMULAS)]
    done = render_batch(jobs, out, dpi=100)
    records = [Record(done[j.key].resolve(), tuple(normalize(j.latex)), "test", 100.0) for j in jobs if j.key in done]
    write_manifest(out / "manifest.jsonl", records)
    return out


@pytest.fixture
def write_tar(tmp_path):
    """An InkML archive in the CROHME package layout: `write_tar({"train/a.inkml": data})` -> its path."""
    def write(files: dict[str, bytes]) -> Path:
        path = tmp_path / "ink.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return path
    return write


@pytest.fixture
def write_corpus(tmp_path):
    """A tiny formulas.tsv.gz in the corpus layout: `write_corpus(["x+y", ...])` -> its path."""
    def write(formulas: list[str]) -> Path:
        rows = ["formula\tsource_repo\tsource_path\tkind\trender_env\tn_chars\tn_tokens"]
        rows += [f"{f}\trepo\tp\tdisplay\tdisplay\t1\t1" for f in formulas]
        path = tmp_path / "corpus.tsv.gz"
        path.write_bytes(gzip.compress("\n".join(rows).encode()))
        return path
    return write


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def datasets() -> Path:
    """The shared datasets beside the checkout (CI has them too)."""
    path = REPO.parent / "shared" / "datasets"
    if not (path / "crohme").is_dir():
        pytest.fail(f"shared datasets not found at {path}", pytrace=False)
    return path
