"""Validation sets built from the shared datasets, whole or not at all."""

import pytest

from mathlens.errors import MathlensError
from mathlens.metrics.evaluate import load_samples
from mathlens.synth import valsets
from mathlens.synth.valsets import build_valsets, set_dir


def test_crohme_ink_sets_pair_every_file_with_its_caption(datasets, tmp_path):
    built = build_valsets(["crohme2013_inkml", "crohme2014_inkml"], datasets, tmp_path)
    assert built == [tmp_path / "crohme2013_inkml", tmp_path / "crohme2014_inkml"]
    ink2014, ink2013 = load_samples(built[1]), load_samples(built[0])
    assert len(ink2014) == 986 and len(ink2013) == 671
    assert all(s.image_path.suffix == ".inkml" and s.image_path.exists() for s in ink2014 + ink2013)
    assert not list(tmp_path.glob("*.partial"))
    # a 2013 caption in the 2014 convention: tokens, \limits on bounded sums
    assert all(" " in s.reference or len(s.reference) == 1 for s in ink2013)


def test_a_built_set_is_kept_and_an_interrupted_one_is_redone(datasets, tmp_path, monkeypatch):
    upscaled = build_valsets(["im2latex_up3"], datasets, tmp_path)[0]
    samples = load_samples(upscaled)
    assert len(samples) == 200
    stamp = (upscaled / "labels.tsv").stat().st_mtime_ns
    assert build_valsets(["im2latex_up3"], datasets, tmp_path)[0] == upscaled
    assert (upscaled / "labels.tsv").stat().st_mtime_ns == stamp  # not rebuilt

    def interrupted(datasets, val_root, out):
        (out / "images").mkdir()
        raise KeyboardInterrupt

    monkeypatch.setitem(valsets.VALSETS, "im2latex_up3", valsets.ValSet("im2latex_up3", "", interrupted))
    with pytest.raises(KeyboardInterrupt):
        build_valsets(["im2latex_up3"], datasets, tmp_path, force=True)
    assert load_samples(upscaled) == samples  # the finished set is untouched


def test_sets_are_found_in_place_or_built_and_unknown_names_refused(datasets, tmp_path):
    assert set_dir("im2latex_val", datasets, tmp_path) == datasets / "im2latex100k" / "val"
    assert set_dir("crohme2014_photo", datasets, tmp_path) == tmp_path / "crohme2014_photo"
    with pytest.raises(MathlensError, match="no validation set 'crohme2099'"):
        set_dir("crohme2099", datasets, tmp_path)
    with pytest.raises(MathlensError, match="no validation set crohme2099"):
        build_valsets(["crohme2099"], datasets, tmp_path)
