from PIL import Image

from mathlens.config import AugmentConfig, PreprocessConfig
from mathlens.data.datasets import FormulaDataset
from mathlens.data.manifest import Record
from mathlens.data.transforms import TrainTransform


def test_a_blank_render_is_skipped_not_fatal(tmp_path, fixtures, tiny_vocab):
    Image.new("L", (40, 20), 255).save(tmp_path / "blank.png")
    records = [Record(tmp_path / "blank.png", ("x",)), Record(fixtures / "quadratic.png", ("y",), dpi=110)]
    dataset = FormulaDataset(records, tiny_vocab, TrainTransform(AugmentConfig(), PreprocessConfig(), seed=0))
    array, ids = dataset[0]
    assert array.max() > 0.5 and ids == tiny_vocab.encode(["y"])
