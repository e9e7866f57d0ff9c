import json

import numpy as np
from PIL import Image

from mathlens.synth.ink_corpus import InkRenderConfig, in_crohme_symbols, render_ink_corpus, with_crohme_limits


def test_ink_is_rendered_in_variants_with_normalized_labels(fixtures, tmp_path, write_tar):
    ink = (fixtures / "inkml" / "one_plus_one.crohme.inkml").read_bytes()
    archive = write_tar({"train/a.inkml": ink, "train/b.inkml": ink, "train/nolabel.inkml": ink})
    (tmp_path / "captions.txt").write_text("a\t1 + 1\nb\tx ^ 2\n")
    cfg = InkRenderConfig(archive, tmp_path / "captions.txt", tmp_path / "out", variants=3,
                          shard_size=1)
    manifest = render_ink_corpus(cfg)
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert len(records) == 6
    assert records[3]["tokens"] == ["x", "^", "{", "2", "}"]
    sizes = {Image.open(tmp_path / "out" / r["image"]).size for r in records}
    assert len(sizes) > 1  # variants differ
    for r in records:
        pixels = np.asarray(Image.open(tmp_path / "out" / r["image"]))
        assert pixels.min() < 100 and pixels.max() == 255
    stamp = (tmp_path / "out" / "shard0000" / "manifest.jsonl").stat().st_mtime_ns
    render_ink_corpus(cfg)  # resumes: nothing redone
    assert (tmp_path / "out" / "shard0000" / "manifest.jsonl").stat().st_mtime_ns == stamp


def test_swapped_variants_are_new_expressions_in_the_same_ink(fixtures, tmp_path, write_tar):
    ink = (fixtures / "inkml" / "b_x_plus_2_eq_3.crohme.inkml").read_bytes()
    keys = "abcde"  # five copies: enough instances of each letter and digit to swap to
    archive = write_tar({f"train/{k}.inkml": ink for k in keys})
    (tmp_path / "captions.txt").write_text("".join(f"{k}\tb x + 2 = 3\n" for k in keys))
    cfg = InkRenderConfig(archive, tmp_path / "captions.txt", tmp_path / "out", variants=2,
                          swap_symbols=True)
    records = [json.loads(line) for line in render_ink_corpus(cfg).read_text().splitlines()]
    assert len(records) == 10 and {r["source"] for r in records} == {"crohme2016_swap"}
    original = "b x + 2 = 3".split()
    for r in records:
        assert len(r["tokens"]) == len(original) and r["tokens"] != original
        assert r["tokens"][2:5:2] == ["+", "="]


def test_bounded_big_operators_get_limits_as_in_the_crohme_test_captions():
    assert with_crohme_limits("\\sum _ { i = 1 } ^ { n } x _ { i }".split()) == \
        "\\sum \\limits _ { i = 1 } ^ { n } x _ { i }".split()
    assert with_crohme_limits("\\lim _ { x } f".split()) == "\\lim \\limits _ { x } f".split()
    already = "\\int \\limits _ { a } ^ { b } f d x".split()
    assert with_crohme_limits(already) == already
    unbounded = "\\int f d x + \\sum x".split()
    assert with_crohme_limits(unbounded) == unbounded


def test_crohme_labels_keep_only_what_ink_can_show():
    raw = "\\mathrm { d } \\left ( x , y \\right ) = \\mathrm { c a r d } ( A ) \\, \\left . y ^ { 2 } \\right |".split()
    assert in_crohme_symbols(raw) == "d ( x , y ) = c a r d ( A ) y ^ { 2 } |".split()
    assert in_crohme_symbols("R _ { g } \\ltq ^ { - 1 } \\gtM".split()) == "R _ { g } < q ^ { - 1 } > M".split()
    kept = "\\frac { a } { b } \\leq \\sqrt { x }".split()
    assert in_crohme_symbols(kept) == kept
