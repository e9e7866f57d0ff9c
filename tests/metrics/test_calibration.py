"""Judging a confidence (AUROC, calibration error, accuracy above thresholds) and fitting one."""

import json
import subprocess
import sys

import pytest

from mathlens.inference.calibration import FEATURES, Signals
from mathlens.metrics.calibration import Example, fit, judged, quality

pytest.importorskip("sklearn")


def test_quality_of_a_perfect_and_a_useless_confidence():
    right = [True, True, False, False]
    perfect = quality([0.9, 0.8, 0.2, 0.1], right, [False, False, True, True])
    assert perfect.auroc == 1.0 and perfect.exact == 0.5 and perfect.unsure == 0.5
    assert perfect.above[0.5] == (0.5, 1.0)  # half the answers are above 0.5, all of them right
    assert perfect.ece == pytest.approx((0.1 + 0.2 + 0.2 + 0.1) / 4)
    useless = quality([0.7, 0.7, 0.7, 0.7], right, [False] * 4)
    assert useless.auroc == 0.5 and useless.ece == pytest.approx(0.2)


def test_a_fitted_calibration_ranks_and_calibrates_better_than_a_constant():
    def example(logp: float, correct: bool) -> Example:
        return Example(Signals(logp, logp * 2, 10, 10), 0.9, correct)

    # right readings are surer; the raw confidence (0.9 for all) says nothing
    train = [example(-0.1 - 0.01 * i, i % 10 < 8) for i in range(50)] + [example(-1.0 - 0.05 * i, i % 10 < 2) for i in range(50)]
    cal = fit(train, unsure_below=0.5, max_tokens_per_column=4.0)
    assert cal.features == FEATURES and len(cal.coef) == len(FEATURES)
    raw, calibrated = judged(train, None), judged(train, cal)
    assert raw.auroc == 0.5 and calibrated.auroc > 0.75
    assert calibrated.ece < raw.ece


@pytest.mark.slow
def test_calibrate_collects_fits_and_writes_the_model(datasets, tmp_path):
    import shutil

    from mathlens.inference.predictor import Predictor, default_model_dir

    model = tmp_path / "model"
    shutil.copytree(default_model_dir(), model, ignore=shutil.ignore_patterns("model.pt"))
    result = subprocess.run([sys.executable, "-m", "mathlens.cli.main", "calibrate", str(model), "--out",
                             str(tmp_path / "cal"), "--datasets", str(datasets), "--val-dir", str(tmp_path / "val"),
                             "--limit", "12", "--write"], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| im2latex_val[0:12], views | calibrated | 12 |" in result.stdout
    written = json.loads((model / "model.json").read_text())["calibration"]
    assert written == json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert Predictor(model).calibration is not None
