import pytest
from PIL import Image

from mathlens.synth.corpus import CorpusRenderConfig, render_corpus
from mathlens.data.manifest import read_manifest
from mathlens.synth.render import FONTS, RenderJob, render_batch
from mathlens.tokenizer.normalize import normalize

pytestmark = pytest.mark.texlive


def test_every_font_renders_and_bad_formulas_are_left_out(tmp_path):
    jobs = [RenderJob("good", r"\frac{a}{b}"), RenderJob("bad", r"x^{2} \nosuchcommand"),
            RenderJob("multi", r"a&=b\\c&=d", "multiline", "align"), RenderJob("inline", r"x_i", "inline")]
    for font in FONTS:
        done = render_batch(jobs, tmp_path / font, font=font, dpi=100)
        assert sorted(done) == ["good", "inline", "multi"], font
        with Image.open(done["multi"]) as image:
            assert image.height > 25  # two lines tall


def test_many_errors_do_not_lose_the_pages_after_them(tmp_path):
    """TeX stops after 100 errors; the pages behind them must still come out."""
    jobs = [RenderJob(f"bad{i}", r"\begin{split}x&=\end{aligned}") for i in range(30)]
    jobs.append(RenderJob("last", r"y=mx+c"))
    assert "last" in render_batch(jobs, tmp_path, dpi=80)


def test_corpus_render_resumes_without_redoing_chunks(tmp_path, write_corpus):
    corpus = write_corpus([f"x_{{{i}}}+y^{{{i}}}=z" for i in range(12)])
    cfg = CorpusRenderConfig(corpus, tmp_path / "out", chunk_size=5, num_workers=1)
    manifest = render_corpus(cfg)
    records = read_manifest(manifest)
    assert len(records) == 12 and all(r.image_path.exists() for r in records)
    first_chunk = tmp_path / "out" / "chunk00000" / "manifest.jsonl"
    stamp = first_chunk.stat().st_mtime_ns
    (tmp_path / "out" / "chunk00001" / "manifest.jsonl").unlink()  # as if interrupted
    assert len(read_manifest(render_corpus(cfg))) == 12
    assert first_chunk.stat().st_mtime_ns == stamp


def test_sentence_punctuation_is_drawn_and_labelled(tmp_path, write_corpus):
    """The corpus has no closing "." or ","; papers do. Both the picture and the label must get it."""
    corpus = write_corpus([f"a_{{{i}}}+b=c" for i in range(6)])
    plain = read_manifest(render_corpus(CorpusRenderConfig(corpus, tmp_path / "plain", num_workers=1, fonts=("cm",))))
    ended = read_manifest(render_corpus(CorpusRenderConfig(corpus, tmp_path / "ended", num_workers=1, fonts=("cm",),
                                                           trailing_punct=1.0)))
    assert len(plain) == len(ended) == 6
    for before, after in zip(plain, ended):
        assert before.tokens[-1] == "c" and after.tokens[:len(before.tokens)] == before.tokens
        assert after.tokens[-1] in {".", ",", ";"}
        with Image.open(before.image_path) as a, Image.open(after.image_path) as b:
            assert b.width > a.width


def test_a_font_that_cannot_render_stops_the_corpus_run(tmp_path, monkeypatch, write_corpus):
    from mathlens.synth import render
    from mathlens.errors import RenderError

    monkeypatch.setitem(render.FONTS, "missing", render.FontSetup("\\usepackage{nosuchfontpackage}"))
    corpus = write_corpus(["x+y=z"])
    with pytest.raises(RenderError, match="'missing' does not render"):
        render_corpus(CorpusRenderConfig(corpus, tmp_path / "out", fonts=("cm", "missing"), num_workers=1))
    assert not (tmp_path / "out").exists()  # stopped before any chunk


def test_array_renders_hold_only_rewritten_matrices(tmp_path, write_corpus):
    corpus = write_corpus([r"A=\begin{pmatrix}a&b\\c&d\end{pmatrix}", "x+y=z", r"f=\begin{cases}1&x>0\\0&x\le0\end{cases}"])
    records = read_manifest(render_corpus(CorpusRenderConfig(corpus, tmp_path / "out", num_workers=1, fonts=("cm",),
                                                             arrays=True)))
    assert len(records) == 2 and all(r.image_path.exists() for r in records)
    assert all("\\begin{array}" in r.tokens and "\\left" in r.tokens for r in records)


def test_swap_renders_label_the_swapped_formula(tmp_path, write_corpus):
    corpus = write_corpus([r"\frac{d}{dx}f(x)", r"\tilde{u}=-\phi^{2}", "123"])
    records = read_manifest(render_corpus(CorpusRenderConfig(corpus, tmp_path / "out", num_workers=1, fonts=("cm",),
                                                             swap_symbols=True)))
    assert len(records) == 2 and all(r.image_path.exists() for r in records)  # digits alone have nothing to swap
    originals = {tuple(normalize(r"\frac{d}{dx}f(x)")), tuple(normalize(r"\tilde{u}=-\phi^{2}"))}
    assert not originals & {tuple(r.tokens) for r in records}
