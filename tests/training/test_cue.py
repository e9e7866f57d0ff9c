import json

import numpy as np
import pytest

from mathlens.config import DataConfig, SourceConfig
from mathlens.inference.predictor import Predictor
from mathlens.inference.inkml import ink_scale, parse_inkml, render_strokes
from mathlens.training.cue import fit_cue, fit_logistic


def test_logistic_regression_separates_two_clouds():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (200, 3)), rng.normal(0, 1, (200, 3)) + [5.0, 0.0, 0.0]]) * [1.0, 50.0, 0.01]
    y = np.r_[np.zeros(200), np.ones(200)]
    weights, bias = fit_logistic(x, y)
    assert np.mean((x @ weights + bias > 0) == y) > 0.97  # the best rule gets 99.4%
    assert abs(weights[0]) > 10 * abs(weights[1])  # the informative feature, whatever its scale


@pytest.mark.texlive
def test_the_cue_tells_tex_renders_from_drawn_ink(tmp_path, rendered_dir, fixtures):
    """TeX renders against ink drawn from the InkML fixtures, through the training augmentation and
    the shipped encoder."""
    ink_dir = tmp_path / "root" / "ink"
    ink_dir.mkdir(parents=True)
    rows = []
    files = [f for f in sorted((fixtures / "inkml").glob("*.inkml")) if "huge" not in f.name and "svg" not in f.name]
    for i, (path, pen) in enumerate((f, pen) for f in files for pen in (1.2, 1.6, 2.0, 2.4, 2.8)):
        ink = parse_inkml(path.read_bytes())
        render_strokes(ink.strokes, scale=ink_scale(ink.strokes) * (0.8 + 0.1 * (i % 5)), width_px=pen).save(ink_dir / f"{i}.png")
        rows.append({"image": f"{i}.png", "tokens": ["x"]})
    (ink_dir / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    tex_dir = tmp_path / "root" / "printed"
    tex_dir.mkdir()
    (tex_dir / "manifest.jsonl").write_text((rendered_dir / "manifest.jsonl").read_text())
    data = DataConfig(data_root=tmp_path / "root", sources=(SourceConfig("printed", "tex"), SourceConfig("ink", "ink")))
    result = fit_cue(data, Predictor(), samples=40, recall=1.0)
    assert result.held_out >= 4 and result.handwritten_right >= 0.75 and result.printed_right >= 0.75
    assert len(result.probe.weights) == 768
