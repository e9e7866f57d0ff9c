"""The VLM backend end to end on a tiny Qwen2-VL: inputs, batching, normalization, errors, CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mathlens.api import Recognizer
from mathlens.cli.main import main
from mathlens.config import DecodeConfig
from mathlens.errors import InvalidInputError
from mathlens.tokenizer.lexer import detokenize, tokenize
from mathlens.tokenizer.repair import repair
from mathlens.vlm.backend import (UNIMUMER_PROMPT, Reply, VlmConfig, VlmPredictor, chat_prompt, clean_reply,
                                  ink_to_image, reply_to_prediction)

GREEDY = DecodeConfig(beam_size=1, views=False)
BAD_INPUTS = {"empty": b"", "text": b"not an image at all", "truncated png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}


@pytest.mark.parametrize("reply, latex", [
    ("x ^ { 2 }", "x ^ { 2 }"),
    ("$x+1$", "x+1"),
    ("$$\\frac{a}{b}$$", "\\frac{a}{b}"),
    ("\\[ a = b \\]", "a = b"),
    ("```latex\n\\sqrt { 2 }\n```", "\\sqrt { 2 }"),
    ("\\frac (above)\n\ta (sup)\n\\frac { a } { b }", "\\frac { a } { b }"),  # reasoning first, the answer last
    ("   \n", ""),
])
def test_clean_reply_keeps_only_the_latex(reply, latex):
    assert clean_reply(reply) == latex


def test_replies_are_repaired_and_compacted_like_the_small_models_output():
    pred = reply_to_prediction(Reply("\\frac { a } { b", math.log(0.5)))
    assert pred.latex == "\\frac{a}{b}" and pred.tokens == ("\\frac", "{", "a", "}", "{", "b", "}")
    assert pred.confidence == 0.5
    assert reply_to_prediction(Reply("x \\", -1.0)).latex == "x"  # a trailing backslash is cut, not raised
    assert reply_to_prediction(Reply("a \\le b ^ 2", -1.0)).latex == "a\\leq b^{2}"  # the normalizer's canonical form
    unmatched = reply_to_prediction(Reply("}", -math.inf))  # no token was generated
    assert unmatched.latex == "" and unmatched.confidence == 0.0


def test_ink_maps_become_black_on_white_rgb_pictures():
    ink = np.zeros((8, 10), dtype=np.float32)
    ink[2:4, 3:6] = 1.0
    image = ink_to_image(ink)
    pixels = np.asarray(image)
    assert image.mode == "RGB" and image.size == (10, 8)
    assert (pixels[2:4, 3:6] == 0).all() and (pixels[0] == 255).all()


def test_chat_prompt_has_one_image_before_uni_mumers_prompt(tiny_vlm):
    text = chat_prompt(tiny_vlm.engine.tokenizer, UNIMUMER_PROMPT)
    assert text.count("<|image_pad|>") == 1
    assert f"<|vision_start|><|image_pad|><|vision_end|>{UNIMUMER_PROMPT}<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")

    class NoTemplate:
        chat_template = None

    assert chat_prompt(NoTemplate(), "Read.") == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        "<|vision_start|><|image_pad|><|vision_end|>Read.<|im_end|>\n<|im_start|>assistant\n")


def test_tiny_model_reads_pictures_and_ink_through_the_recognizer(tiny_vlm, fixtures, monkeypatch):
    replies: list[Reply] = []
    generate = tiny_vlm.engine.generate

    def spy(images, prompt, beam_size):
        out = generate(images, prompt, beam_size)
        replies.extend(out)
        return out

    monkeypatch.setattr(tiny_vlm.engine, "generate", spy)
    rec = Recognizer(predictor=tiny_vlm, decode=GREEDY)
    preds = rec.recognize_batch([fixtures / "quadratic.png", fixtures / "inkml" / "one_plus_one.crohme.inkml"])
    assert len(replies) == 2 and all(p.error is None for p in preds)
    # each answer is its raw reply normalized, nothing else (the predictor reads small pictures first)
    assert sorted(preds, key=repr) == sorted((reply_to_prediction(r) for r in replies), key=repr)
    for pred in preds:
        assert pred.latex == detokenize(repair(tokenize(pred.latex)))  # repaired: a fixed point
        assert 0.0 < pred.confidence <= 1.0


def test_beam_search_runs_and_gives_a_confidence(tiny_vlm, fixtures):
    rec = Recognizer(predictor=tiny_vlm, decode=DecodeConfig(beam_size=2, views=False))
    pred = rec.recognize(fixtures / "quadratic.png")
    assert pred.error is None and 0.0 < pred.confidence <= 1.0


def test_bad_input_gives_the_small_models_errors(tiny_vlm):
    small = Recognizer(beam_size=1)
    vlm = Recognizer(predictor=tiny_vlm, decode=GREEDY)
    small_preds = small.recognize_batch(list(BAD_INPUTS.values()), errors="return")
    vlm_preds = vlm.recognize_batch(list(BAD_INPUTS.values()), errors="return")
    assert [p.error for p in vlm_preds] == [p.error for p in small_preds]
    assert all(p.error for p in vlm_preds)
    for data in BAD_INPUTS.values():
        with pytest.raises(InvalidInputError) as vlm_err:
            vlm.recognize(data)
        with pytest.raises(InvalidInputError) as small_err:
            small.recognize(data)
        assert str(vlm_err.value) == str(small_err.value)


class WidthEngine:
    """An engine that answers each picture with its width: shows which reply went to which input."""

    tokenizer = ("a", "b")

    def __init__(self) -> None:
        self.calls: list[int] = []

    def generate(self, images: list[Image.Image], prompt: str, beam_size: int) -> list[Reply]:
        self.calls.append(len(images))
        return [Reply(f"w _ {{ {image.width} }}", -0.1) for image in images]


def test_batches_hold_at_most_batch_size_pictures_and_answers_keep_input_order():
    engine = WidthEngine()
    predictor = VlmPredictor(VlmConfig("unused", batch_size=2), engine=engine)
    widths = [40, 10, 30, 20, 50]
    preds = predictor.predict([np.zeros((6, w), dtype=np.float32) for w in widths], GREEDY)
    assert engine.calls == [2, 2, 1]
    assert [p.latex for p in preds] == [f"w_{{{w}}}" for w in widths]


def test_predict_cli_writes_the_same_jsonl_as_for_the_small_model(tiny_vlm_dir, fixtures, tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(BAD_INPUTS["truncated png"])
    code = main(["predict", str(fixtures / "quadratic.png"), str(bad), "--jsonl", "--backend", "vlm",
                 "--model", str(tiny_vlm_dir), "--vlm-engine", "transformers", "--max-new-tokens", "8", "--beam", "1"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 2  # an input failed
    assert set(lines[0]) >= {"path", "latex", "confidence"} and lines[0]["path"].endswith("quadratic.png")
    small_error = Recognizer(beam_size=1).recognize_batch([bad], errors="return")[0].error
    assert lines[1] == {"path": str(bad), "error": small_error}


@pytest.mark.parametrize("args, message", [
    (["--backend", "vlm"], "--backend vlm needs --model"),
    (["--model", "some/model"], "--model is for --backend vlm"),
    (["--backend", "vlm", "--model", "./no/such/folder"], "no VLM checkpoint at ./no/such/folder"),
    (["--backend", "vlm", "--model", "x", "--model-dir", "y"], "--model-dir is the small model's folder"),
    (["--backend", "vlm", "--model", "x", "--max-new-tokens", "0"], "--max-new-tokens must be at least 1"),
])
def test_backend_flags_that_cannot_work_exit_2_with_a_message(args, message, fixtures, capsys):
    assert main(["predict", str(fixtures / "quadratic.png"), *args]) == 2
    assert f"mathlens: error: {message}" in capsys.readouterr().err


def test_a_folder_that_is_not_a_checkpoint_is_refused(tmp_path, fixtures, capsys):
    assert main(["predict", str(fixtures / "quadratic.png"), "--backend", "vlm", "--model", str(tmp_path)]) == 2
    assert "not a transformers checkpoint: no config.json" in capsys.readouterr().err


def test_importing_the_cli_and_the_backend_loads_no_transformers_or_torch():
    code = ("import sys, mathlens.cli.main, mathlens.cli.bench, mathlens.vlm.backend, mathlens.bench.report; "
            "print([m for m in ('torch', 'transformers', 'vllm') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ray_batch_actors_hold_the_vlm_when_asked(tiny_vlm_dir, fixtures):
    """`mathlens batch --backend vlm`'s Ray Data UDF, called as an actor calls it (Ray itself: tests/ray)."""
    from mathlens.jobs.ray_batch import RecognizeBatch

    udf = RecognizeBatch(None, GREEDY, 1, 4, vlm=VlmConfig(str(tiny_vlm_dir), engine="transformers", max_new_tokens=8))
    assert isinstance(udf.recognizer.predictor, VlmPredictor)
    files = [str(fixtures / "quadratic.png"), str(fixtures / "missing.png")]
    out = udf({"path": np.array(files), "file": np.array(files)})
    assert out["error"] == [None, f"no such file: {fixtures / 'missing.png'}"]
    assert isinstance(out["latex"][0], str) and out["confidence"][0] > 0


@pytest.mark.parametrize("command", [
    ["serve", "--ray", "--backend", "vlm", "--model", "x"],
    ["batch", "in.png", "--output", "out.jsonl", "--backend", "vlm"],
])
def test_serve_and_batch_refuse_what_they_cannot_do_before_starting_anything(command, capsys):
    pytest.importorskip("ray")
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "--ray serves the small model" in err if "serve" in command else "--backend vlm needs --model" in err


def test_a_qwen2_5_vl_checkpoint_reads_through_the_same_backend(tiny_qwen25_vl_dir, fixtures):
    """Uni-MuMER's model class (Qwen2.5-VL: windowed vision attention) loads and reads as Qwen2-VL does."""
    predictor = VlmPredictor(VlmConfig(str(tiny_qwen25_vl_dir), engine="transformers", max_new_tokens=8))
    assert type(predictor.engine.model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    preds = Recognizer(predictor=predictor, decode=GREEDY).recognize_batch([fixtures / "quadratic.png", b""],
                                                                          errors="return")
    assert preds[0].error is None and 0.0 < preds[0].confidence <= 1.0 and preds[1].error == "empty file"
