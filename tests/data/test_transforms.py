"""Clip transforms: one crop and one flip decision per clip, the flip policy, test crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from actionbench.data.transforms import IMAGENET_MEAN, TestTransform, TrainTransform, normalize
from actionbench.errors import ConfigError


def textured_clip(t: int = 4, h: int = 48, w: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    frame = torch.randint(0, 256, (1, 3, h, w), dtype=torch.uint8, generator=g)
    return frame.repeat(t, 1, 1, 1)


def halves_clip(size: int = 32, t: int = 3) -> torch.Tensor:
    """Left half black, right half white: a horizontal flip is unmistakable."""
    clip = torch.zeros((t, 3, size, size), dtype=torch.uint8)
    clip[..., size // 2 :] = 255
    return clip


def test_train_output_shape_and_dtype():
    out = TrainTransform(input_size=32)(textured_clip(), np.random.default_rng(0))
    assert out.shape == (3, 4, 32, 32)
    assert out.dtype == torch.float32


@pytest.mark.parametrize("seed", range(20))
def test_same_crop_and_flip_for_every_frame(seed):
    # Identical input frames must stay identical: any per-frame crop or flip would break that.
    out = TrainTransform(input_size=24, flip=True)(textured_clip(t=5), np.random.default_rng(seed))
    for t in range(1, 5):
        assert torch.equal(out[:, t], out[:, 0])


def test_crop_params_use_tsn_scales_and_grid():
    transform = TrainTransform(input_size=224)
    seen_sizes = set()
    rng = np.random.default_rng(0)
    for _ in range(300):
        top, left, h, w = transform.crop_params(256, 340, rng)
        seen_sizes.add((h, w))
        assert top >= 0 and top + h <= 256 and left >= 0 and left + w <= 340
    base_sizes = {256, 224, 192, 168}  # int(256 * (1, .875, .75, .66)); 224 snapped
    assert {h for h, _ in seen_sizes} == base_sizes
    assert all(
        abs(sorted(base_sizes).index(h) - sorted(base_sizes).index(w)) <= 1 for h, w in seen_sizes
    )


def test_flip_false_never_flips_and_flip_true_sometimes_does():
    clip = halves_clip()
    no_flip = TrainTransform(input_size=32, scales=(1.0,), flip=False)
    flip = TrainTransform(input_size=32, scales=(1.0,), flip=True)
    flipped = 0
    for seed in range(40):
        out = no_flip(clip, np.random.default_rng(seed))
        assert out[:, :, :, :8].mean() < 0 < out[:, :, :, -8:].mean()
        out = flip(clip, np.random.default_rng(seed))
        flipped += int(out[:, :, :, :8].mean() > 0)
    assert 5 < flipped < 35


def test_normalize_uses_imagenet_statistics():
    value = torch.tensor([round(m * 255) for m in IMAGENET_MEAN], dtype=torch.uint8)
    clip = value.view(1, 3, 1, 1).repeat(2, 1, 4, 4)
    out = normalize(clip)
    assert out.shape == (3, 2, 4, 4)
    assert out.abs().max() < 0.02


def test_test_transform_center_crop():
    out = TestTransform(input_size=32, scale_size=40, num_crops=1)(textured_clip(h=48, w=64))
    assert out.shape == (1, 3, 4, 32, 32)


def test_three_crops_run_along_the_longer_side():
    landscape = TestTransform(input_size=32, scale_size=40, num_crops=3)
    assert landscape.crop_origins(40, 53) == [(4, 0), (4, 10), (4, 21)]
    assert landscape.crop_origins(53, 40) == [(0, 4), (10, 4), (21, 4)]
    out = landscape(textured_clip(h=48, w=64))
    assert out.shape == (3, 3, 4, 32, 32)
    assert not torch.equal(out[0], out[2])


def test_invalid_test_settings():
    with pytest.raises(ConfigError, match="num_crops=2"):
        TestTransform(num_crops=2)
    with pytest.raises(ConfigError, match="scale_size=200 < input_size=224"):
        TestTransform(input_size=224, scale_size=200)
