"""The detector's targets, its box decoding, and a short training run exported to ONNX."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mathlens.pages.detect import STRIDE, DetectorSettings, FormulaDetector, decode, region_extent
from mathlens.training.detect import DetectorTrainConfig, make_targets, rotate, train_detector

pytestmark = pytest.mark.train


def test_targets_decode_back_to_their_boxes():
    boxes = np.array([[10.0, 20.0, 90.0, 36.0], [120.0, 100.0, 250.0, 180.0], [40.0, 60.0, 44.0, 65.0]])
    classes = np.array([0, 1, 0])
    heat, edges, _ = make_targets(boxes, classes, (256, 320), 0.2, DetectorSettings().edge_scale, 4)
    output = np.concatenate([np.where(heat > 0, 10.0, -10.0), edges]).astype(np.float32)
    regressed = DetectorSettings(min_cells=1, region_share=(0.0,) * 4)
    found = sorted(decode(output, regressed, (320, 256)), key=lambda f: f[1].x0)
    assert [c for c, _, _ in found] == [0, 0, 1]
    for (_, box, _), truth in zip(found, boxes[[0, 2, 1]]):
        assert np.allclose([box.x0, box.y0, box.x1, box.y1], truth, atol=0.5)


def test_a_map_region_grown_back_by_the_shrink_gives_its_box_within_a_cell():
    box = np.array([[30.0, 40.0, 230.0, 80.0]])
    heat, _, _ = make_targets(box, np.array([0]), (128, 256), 0.2, 16.0, 4)
    ys, xs = np.nonzero(heat[0])
    assert np.abs(region_extent(xs, ys, 0.2) - box[0]).max() <= STRIDE


def test_a_box_smaller_than_a_cell_still_gets_one():
    heat, _, weight = make_targets(np.array([[50.0, 50.0, 51.0, 51.5]]), np.array([0]), (64, 64), 0.2, 16.0, 4)
    assert heat[0].sum() == 1 and weight.sum() == 1
    assert heat[0, 50 // STRIDE, 50 // STRIDE] == 1


def test_rotated_boxes_still_cover_their_ink():
    image = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(image).rectangle((60, 90, 140, 110), fill=0)
    turned, boxes = rotate(image, np.array([[60.0, 90.0, 140.0, 110.0]]), 3.0)
    ys, xs = np.nonzero(np.asarray(turned) < 128)
    x0, y0, x1, y1 = boxes[0]
    assert x0 - 1 <= xs.min() and xs.max() <= x1 + 1 and y0 - 1 <= ys.min() and ys.max() <= y1 + 1
    assert y1 - y0 > 22  # a turned bar is taller than the level one


@pytest.mark.slow
def test_training_resumes_and_exports_a_detector_that_runs(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    records = []
    for i in range(2):
        image = Image.new("L", (600, 800), 255)
        draw = ImageDraw.Draw(image)
        draw.text((60, 100), "x + y = z", fill=0)
        image.save(pages / f"{i}.png")
        records.append({"image": f"{i}.png", "boxes": [{"kind": "inline", "bbox": [58, 98, 120, 112]}]})
    (pages / "part-00000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    cfg = DetectorTrainConfig(pages_dir=pages, out_dir=tmp_path / "run", steps=2, batch_size=2, crop=(128, 160),
                              num_workers=0, checkpoint_every=1)
    train_detector(cfg)
    again = DetectorTrainConfig(**{**cfg.__dict__, "steps": 3})
    onnx = train_detector(again)
    import torch
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=False)["step"] == 3
    detector = FormulaDetector(onnx.parent)
    found = detector.detect(Image.open(pages / "0.png").convert("RGB"))
    assert all(d.kind in ("inline", "display", "figure", "table") for d in found)
