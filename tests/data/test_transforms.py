import random

import numpy as np
import pytest
from PIL import Image

from mathlens.config import AugmentConfig, PreprocessConfig
from mathlens.data.collate import LengthBucketSampler, collate
from mathlens.data.transforms import TrainTransform, eval_transform, paper


def test_augmented_inputs_stay_valid_model_inputs(fixtures):
    pre = PreprocessConfig()
    transform = TrainTransform(AugmentConfig(blur_p=1, noise_p=1, jpeg_p=1, low_contrast_p=1, paper_p=0.5), pre, seed=0)
    with Image.open(fixtures / "quadratic.png") as image:
        clean = eval_transform(pre)(image)
        for _ in range(10):
            out = transform(image, dpi=110)
            assert out.dtype == np.float32 and out.ndim == 2
            assert out.shape[0] % pre.pad_multiple == 0 and out.shape[1] % pre.pad_multiple == 0
            assert 0.0 <= out.min() and out.max() <= 1.0 and out.max() > 0.5
    assert not np.array_equal(out, clean)


def test_paper_adds_faint_lines_and_keeps_the_ink():
    gray = np.full((80, 200), 255, np.uint8)
    gray[30:50, 50:60] = 0
    out = paper(gray, random.Random(0))
    assert out[30:50, 50:60].max() == 0
    background = np.delete(out, np.s_[30:50], axis=0)
    assert (background < 230).all(axis=1).any()  # at least one ruled line across the page
    assert background.min() > 100  # lines and shadows stay lighter than ink


def test_dpi_rescaling_targets_the_configured_range(fixtures):
    pre = PreprocessConfig()
    aug = AugmentConfig(enabled=True, blur_p=0, noise_p=0, jpeg_p=0, binarize_p=0, invert_p=0, low_contrast_p=0,
                        paper_p=0, rotate_deg=0, shear_deg=0, dpi_range=(55.0, 55.0))
    with Image.open(fixtures / "quadratic.png") as image:  # rendered at 110 dpi
        half = TrainTransform(aug, pre, seed=1)(image, dpi=110)
        clean = eval_transform(PreprocessConfig(auto_scale=False))(image)  # native size, not enlarged
    assert half.shape[1] == pytest.approx(clean.shape[1] / 2, abs=pre.pad_multiple + 2 * pre.margin)


def test_collate_pads_and_shifts_targets():
    batch = collate([(np.ones((8, 16), np.float32), [1, 5, 6, 2]), (np.ones((16, 8), np.float32), [1, 7, 2])])
    assert batch.images.shape == (2, 1, 16, 16)
    assert batch.pixel_mask[0, 0, 8:].sum() == 0 and batch.pixel_mask[1, 0, :, 8:].sum() == 0
    assert batch.tgt_in.tolist() == [[1, 5, 6], [1, 7, 0]]
    assert batch.tgt_out.tolist() == [[5, 6, 2], [7, 2, 0]]


def test_bucket_sampler_respects_budget_and_covers_everything():
    lengths = [5, 100, 7, 90, 6, 95, 4, 8] * 10
    sampler = LengthBucketSampler(lengths, max_batch_size=8, max_tokens_per_batch=300, seed=0)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 8 and (max(lengths[i] for i in b) + 2) * len(b) <= 300 or len(b) == 1
    assert list(sampler) != batches  # a new epoch reshuffles


def test_bucket_sampler_groups_images_of_similar_size():
    """Same target lengths, very different heights: batches must not mix tall and short images."""
    lengths = [20] * 64
    sizes = [(30.0, 200.0 + i) if i % 2 else (150.0, 200.0 + i) for i in range(64)]
    sampler = LengthBucketSampler(lengths, max_batch_size=8, max_tokens_per_batch=10_000, seed=0, sizes=sizes)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(64))
    assert all(len({sizes[i][0] for i in b}) == 1 for b in batches)
    unaware = list(LengthBucketSampler(lengths, max_batch_size=8, max_tokens_per_batch=10_000, seed=0))
    assert any(len({sizes[i][0] for i in b}) == 2 for b in unaware)  # what the sizes prevent
