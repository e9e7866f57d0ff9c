"""Python API: `Recognizer().recognize("formula.png")`.

    >>> from mathlens import Recognizer
    >>> rec = Recognizer()                       # the model shipped in the package, beam search 3
    >>> pred = rec.recognize("examples/quadratic.png")
    >>> pred.latex, pred.confidence
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mathlens.config import DEFAULT_BEAM, DecodeConfig
from mathlens.inference.inkml import Ink, Strokes, strokes_from_lists
from mathlens.errors import MathlensError
from mathlens.inference.predictor import Prediction, Predictor
from mathlens.inference.preprocess import ImageInput, preprocess_views

if TYPE_CHECKING:
    from mathlens.vlm.backend import VlmPredictor

__all__ = ["Recognizer", "Prediction"]


def prepare_views(predictor: Predictor, decode: DecodeConfig, images: Sequence[ImageInput],
                  errors: Literal["raise", "return"]) -> tuple[dict[int, list], dict[int, Prediction]]:
    """Each input's views by its index, and the inputs that could not be prepared as error readings."""
    views: dict[int, list] = {}
    failed: dict[int, Prediction] = {}
    for i, image in enumerate(images):
        try:
            views[i] = preprocess_views(image, predictor.preprocess_config, decode.views, judge=predictor.judge)
        except MathlensError as err:
            if errors == "raise":
                raise
            failed[i] = Prediction("", 0.0, error=str(err))
    return views, failed


class Recognizer:
    def __init__(self, model_dir: Path | None = None, *, beam_size: int = DEFAULT_BEAM, num_threads: int = 2,
                 rescore_right_to_left: bool = True, views: bool = True, max_batch_size: int = 16,
                 decode: DecodeConfig | None = None, memory_arena: bool = True,
                 predictor: Predictor | VlmPredictor | None = None) -> None:
        """`views=False` reads each input once, at one size: about twice as fast, less accurate.
        `memory_arena=False` keeps memory flat over inputs of many sizes, at some batch speed.

        `decode`, when given, is the whole search configuration (beam_size, views ... are then unused).
        `predictor`, when given, reads instead of the ONNX model: anything with Predictor's interface,
        such as a vision-language model (`mathlens.vlm.backend.VlmPredictor`, docs/vlm.md).
        """
        self.predictor = predictor if predictor is not None else Predictor(
            model_dir, num_threads=num_threads, max_batch_size=max_batch_size, memory_arena=memory_arena)
        self.decode = decode or DecodeConfig(beam_size=beam_size, rescore_right_to_left=rescore_right_to_left,
                                             views=views)

    def recognize(self, image: ImageInput) -> Prediction:
        """One image or InkML file (path, bytes, PIL image or array) -> Prediction.

        Raises InvalidInputError for anything that cannot be read.
        """
        return self.recognize_batch([image])[0]

    def recognize_strokes(self, strokes: Strokes) -> Prediction:
        """Ink from a drawing pad: a list of strokes, each a list of (x, y) points."""
        return self.recognize(Ink(strokes_from_lists(strokes)))

    def recognize_batch(self, images: Sequence[ImageInput | Ink], *,
                        errors: Literal["raise", "return"] = "raise") -> list[Prediction]:
        """Many images, batched. With errors="return", unreadable items come back with `.error` set.

        The one batch path: the CLI, `mathlens eval`, batch jobs and Ray Data all read through it.
        """
        views, failed = prepare_views(self.predictor, self.decode, images, errors)
        preds = dict(zip(views, self.predictor.predict_views(list(views.values()), self.decode)))
        return [preds[i] if i in preds else failed[i] for i in range(len(images))]
