"""THE checkpoint format: round trips, the shipped weights, and every way a file can be wrong."""

from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest

from mathlens import checkpoint
from mathlens.errors import CheckpointError

pytestmark = pytest.mark.train
torch = pytest.importorskip("torch")


def test_save_and_load_round_trip(tiny_checkpoint, tmp_path):
    ckpt = checkpoint.load(tiny_checkpoint)
    checkpoint.save(ckpt, tmp_path / "full.pt")
    checkpoint.save(ckpt, tmp_path / "half.pt", half=True)
    full, half = checkpoint.load(tmp_path / "full.pt"), checkpoint.load(tmp_path / "half.pt")
    assert full.model_config == ckpt.model_config and full.vocab == ckpt.vocab
    for key, value in ckpt.state_dict.items():
        assert torch.equal(full.state_dict[key], value)
        if value.is_floating_point():  # stored in fp16, loaded as fp32
            assert half.state_dict[key].dtype == torch.float32
            assert torch.allclose(half.state_dict[key], value, atol=1e-2, rtol=1e-2)
    payload = torch.load(tmp_path / "half.pt", map_location="cpu", weights_only=True)
    assert payload["format_version"] == checkpoint.FORMAT_VERSION and "mathlens_version" in payload
    assert not any(key.startswith(("model.", "module.", "_orig_mod.")) for key in payload["state_dict"])


def test_the_shipped_weights_match_the_shipped_onnx_model():
    import json

    weights = Path(str(resources.files("mathlens") / "weights"))
    ckpt = checkpoint.load(weights / "model.pt")
    meta = json.loads((weights / "model.json").read_text())
    assert list(ckpt.vocab.tokens) == meta["vocab"]
    assert ckpt.model_config.encoder.channels == tuple(meta["model_config"]["encoder"]["channels"])
    model = checkpoint.build_model(ckpt)  # every weight has its place in the network
    assert sum(p.numel() for p in model.parameters()) > 1_000_000


def test_wrapper_prefixes_are_dropped():
    assert checkpoint._unwrap({"model.a": 1, "module._orig_mod.b": 2}) == {"a": 1, "b": 2}


@pytest.mark.parametrize("payload, message", [({"format_version": 99, "state_dict": {}}, "format 99"),
                                              ({"state_dict": {}}, "format None")])
def test_another_format_is_refused(tmp_path, payload, message):
    torch.save(payload, tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match=message):
        checkpoint.load(tmp_path / "x.pt")


def test_missing_and_corrupt_files_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        checkpoint.load(tmp_path / "nowhere.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        checkpoint.load(tmp_path / "bad.pt")


def test_only_the_same_model_averages(tiny_checkpoint):
    ckpt = checkpoint.load(tiny_checkpoint)
    doubled = replace(ckpt, state_dict={k: v * 2 if v.is_floating_point() else v for k, v in ckpt.state_dict.items()})
    mean = checkpoint.average([ckpt, doubled])
    key = next(k for k, v in ckpt.state_dict.items() if v.is_floating_point())
    assert torch.allclose(mean.state_dict[key], ckpt.state_dict[key] * 1.5)
    other = replace(ckpt, model_config=replace(ckpt.model_config, vocab_size=ckpt.model_config.vocab_size + 1))
    with pytest.raises(CheckpointError, match="same model"):
        checkpoint.average([ckpt, other])
