import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from mathlens import checkpoint
from mathlens.config import DecodeConfig
from mathlens.decoding.search import beam_search
from mathlens.export.onnx import export, parity
from mathlens.inference.onnx_backend import OnnxStepModel
from mathlens.inference.torch_backend import TorchStepModel


def test_onnx_matches_torch_step_by_step(tiny_checkpoint, tiny_onnx_dir):
    model = checkpoint.build_model(checkpoint.load(tiny_checkpoint))
    assert parity(model, tiny_onnx_dir, seed=3) < 1e-3


def test_onnx_and_torch_decode_the_same_sequences(tiny_checkpoint, tiny_onnx_dir):
    model = checkpoint.build_model(checkpoint.load(tiny_checkpoint))
    images = np.random.default_rng(0).random((2, 1, 40, 120), dtype=np.float32)
    mask = np.ones_like(images)
    cfg = DecodeConfig(beam_size=2, max_len=15)
    torch_step = TorchStepModel(model)
    a = beam_search(torch_step, torch_step.start(torch.from_numpy(images), torch.from_numpy(mask)), 2, cfg)
    onnx_step = OnnxStepModel(tiny_onnx_dir, num_threads=1)
    b = beam_search(onnx_step, onnx_step.start(images, mask), 2, cfg)
    assert [h.ids for h in a] == [h.ids for h in b]


def test_int8_export_runs(tiny_checkpoint, tmp_path):
    result = export(tiny_checkpoint, tmp_path / "int8", quantize=True)
    assert result.quantized and (tmp_path / "int8" / "decoder.onnx").stat().st_size > 0


def test_fp16_weights_halve_the_graphs_and_stay_close_to_fp32(tiny_checkpoint, tiny_onnx_dir, tmp_path):
    from mathlens.inference.predictor import Predictor

    result = export(tiny_checkpoint, tmp_path / "fp16", half_weights=True)
    size = lambda d: sum(f.stat().st_size for f in d.glob("*.onnx"))  # noqa: E731
    assert size(result.out_dir) < 0.7 * size(tiny_onnx_dir)  # the tiny model has many small tensors, kept fp32
    assert json.loads((result.out_dir / "model.json").read_text())["weights"] == "fp16"
    model = checkpoint.build_model(checkpoint.load(tiny_checkpoint))
    assert 0 < parity(model, result.out_dir, seed=3) < 1e-2  # fp16 rounding, no more
    # fp32 arithmetic: an image reads the same whatever shares its batch (int8's activations do not)
    rng = np.random.default_rng(2)
    arrays = [rng.random((40, 120), dtype=np.float32) for _ in range(3)]
    predictor, cfg = Predictor(result.out_dir, num_threads=1), DecodeConfig(beam_size=2, max_len=15)
    assert predictor.predict(arrays[:1], cfg)[0] == predictor.predict(arrays, cfg)[0]


def test_export_cli_refuses_int8_and_fp16_together(tiny_checkpoint, tmp_path):
    from mathlens.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(tiny_checkpoint), str(tmp_path / "out"), "--int8", "--fp16"])
    assert exit_info.value.code == 2 and not (tmp_path / "out").exists()


def test_fp16_checkpoint_roundtrip_and_bad_files(tiny_checkpoint, tmp_path):
    ckpt = checkpoint.load(tiny_checkpoint)
    checkpoint.save(ckpt, tmp_path / "half.pt", half=True)
    again = checkpoint.load(tmp_path / "half.pt")
    assert again.vocab == ckpt.vocab and again.model_config == ckpt.model_config
    (tmp_path / "corrupt.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.load(tmp_path / "corrupt.pt")
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.load(tmp_path / "missing.pt")


def test_averaged_weights_are_the_mean_and_other_models_are_refused(tiny_checkpoint):
    a = checkpoint.load(tiny_checkpoint)
    b = checkpoint.Checkpoint(a.model_config, a.vocab, {k: v * 3 if v.is_floating_point() else v
                                                        for k, v in a.state_dict.items()})
    mean = checkpoint.average([a, b])
    key = next(k for k, v in a.state_dict.items() if v.is_floating_point() and v.abs().sum() > 0)
    assert torch.allclose(mean.state_dict[key], a.state_dict[key] * 2)
    checkpoint.build_model(mean)  # still a whole model
    other = checkpoint.Checkpoint(a.model_config, type(a.vocab)(a.vocab.tokens[:-1]), a.state_dict)
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.average([a, other])
    # preprocessing is calibrated, not learned: checkpoints that differ only there average, keeping the first's
    recalibrated = replace(a.model_config, preprocess=replace(a.model_config.preprocess, target_dpi=99.0))
    mixed = checkpoint.average([checkpoint.Checkpoint(recalibrated, a.vocab, a.state_dict), b])
    assert mixed.model_config.preprocess.target_dpi == 99.0


def test_export_cli_sets_preprocessing_the_model_carries(tiny_checkpoint, tmp_path, capsys):
    from mathlens.cli.main import main

    assert main(["export", str(tiny_checkpoint), str(tmp_path / "out"), "--preprocess", "target_dpi=130",
                 "max_glyph_px=24", "--save-pt", str(tmp_path / "half.pt")]) == 0
    meta = json.loads((tmp_path / "out" / "model.json").read_text())
    assert meta["model_config"]["preprocess"]["target_dpi"] == 130
    assert meta["model_config"]["preprocess"]["max_glyph_px"] == 24.0 and isinstance(meta["model_config"]["preprocess"]["max_glyph_px"], float)
    assert checkpoint.load(tmp_path / "half.pt").model_config.preprocess.target_dpi == 130
    assert checkpoint.load(tiny_checkpoint).model_config.preprocess.target_dpi != 130  # the source is untouched

    assert main(["export", str(tiny_checkpoint), str(tmp_path / "bad"), "--preprocess", "dpi=140"]) == 2
    assert "no such field" in capsys.readouterr().err


def test_a_model_that_reads_both_ways_is_rescored_alike_in_onnx_and_torch(tiny_checkpoint, tiny_onnx_dir,
                                                                          both_ways_onnx_dir):
    from mathlens.decoding.search import right_to_left_logp
    from mathlens.inference.predictor import Predictor

    model = checkpoint.build_model(checkpoint.load(tiny_checkpoint))
    images = np.random.default_rng(1).random((2, 1, 40, 120), dtype=np.float32)
    mask = np.ones_like(images)
    seqs = [[5, 6, 7], [8]]
    torch_step, onnx_step = TorchStepModel(model), OnnxStepModel(tiny_onnx_dir, num_threads=1)
    a = right_to_left_logp(torch_step, torch_step.start(torch.from_numpy(images), torch.from_numpy(mask)), seqs)
    b = right_to_left_logp(onnx_step, onnx_step.start(images, mask), seqs)
    assert np.allclose(a, b, atol=1e-3)

    cfg = DecodeConfig(beam_size=3, max_len=15)
    arrays = [images[i, 0] for i in range(2)]
    for rescore in (True, False):
        got = Predictor(both_ways_onnx_dir, num_threads=1).predict(arrays, replace(cfg, rescore_right_to_left=rescore))
        want = beam_search(onnx_step, onnx_step.start(images, mask), 2, cfg, right_to_left=rescore)
        assert [p.confidence for p in got] == [round(float(np.exp(h.score)), 4) for h in want]
