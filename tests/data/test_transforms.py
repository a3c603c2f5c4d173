"""Clip transforms: one crop and one flip per clip, uint8 throughout, test crops, normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from actionbench.data.transforms import (
    BatchNormalize,
    TestTransform,
    TrainTransform,
    normalize,
    view_boxes,
)
from actionbench.errors import ConfigError
from actionbench.models.weights.normalization import IMAGENET_MEAN, IMAGENET_STD


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
    assert out.dtype == torch.uint8  # normalisation happens on the device, per batch
    assert out.is_contiguous()


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
        out = no_flip(clip, np.random.default_rng(seed)).float()
        assert out[:, :, :, :8].mean() < 128 < out[:, :, :, -8:].mean()
        out = flip(clip, np.random.default_rng(seed)).float()
        flipped += int(out[:, :, :, :8].mean() > 128)
    assert 5 < flipped < 35


@pytest.mark.parametrize("dims", ["TCHW", "THWC", "CTHW"])
def test_transforms_take_uint8_clips_in_any_layout(dims):
    clip = textured_clip(t=3, h=40, w=52)  # (T, C, H, W)
    source = {"TCHW": clip, "THWC": clip.permute(0, 2, 3, 1), "CTHW": clip.permute(1, 0, 2, 3)}
    source = source[dims].contiguous()
    train = TrainTransform(input_size=24)
    expected = train(clip, np.random.default_rng(3))
    assert torch.equal(train(source, np.random.default_rng(3), dims=dims), expected)
    test = TestTransform(input_size=32, scale_size=36, num_crops=3)
    assert torch.equal(test(source, dims=dims), test(clip))
    with pytest.raises(ValueError, match="uint8"):
        train(clip.float(), np.random.default_rng(0))


def test_batch_normalize_uses_the_given_statistics():
    value = torch.tensor([round(m * 255) for m in IMAGENET_MEAN], dtype=torch.uint8)
    clip = value.view(3, 1, 1, 1).repeat(1, 2, 4, 4)  # (C, T, H, W) at the mean colour
    out = normalize(clip, IMAGENET_MEAN, IMAGENET_STD)
    assert out.shape == (3, 2, 4, 4) and out.dtype == torch.float32
    assert out.abs().max() < 0.02
    batch = torch.full((2, 5, 3, 2, 4, 4), 255, dtype=torch.uint8)  # (B, V, C, T, H, W)
    half = BatchNormalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))(batch)
    assert torch.allclose(half, torch.ones_like(half))  # (1 - 0.5) / 0.5
    ready = torch.randn(2, 3, 2, 4, 4)
    assert half is not ready and BatchNormalize(IMAGENET_MEAN, IMAGENET_STD)(ready) is ready


def test_test_transform_center_crop():
    out = TestTransform(input_size=32, scale_size=40, num_crops=1)(textured_clip(h=48, w=64))
    assert out.shape == (1, 3, 4, 32, 32)
    assert out.dtype == torch.uint8


# Hand-computed test views. Reference (IBM/action-recognition-pytorch): centre offset
# round((W - s) / 2) as torchvision's CenterCrop (half to even); 3/5 crops on the grid
# 4 * floor((W - s) / 4). Paper: floored centre, exact far edges. (top, left, mirrored).
@pytest.mark.parametrize(
    "height, width, size, crops, protocol, boxes",
    [
        # 16:9 frame at 256 px: 455 x 256. Centre: (455 - 224) / 2 = 115.5 -> 116 vs 115.
        (256, 455, 224, 1, "reference", [(16, 116, False)]),
        (256, 455, 224, 1, "paper", [(16, 115, False)]),
        # The published evaluation: 256-px crops of a 256 x 455 frame, 3 crops.
        # step = floor(199 / 4) = 49 -> 0, 98, 196 (paper: 0, 99, 199). Centre 99.5 -> 100.
        (256, 455, 256, 3, "reference", [(0, 0, False), (0, 98, False), (0, 196, False)]),
        (256, 455, 256, 3, "paper", [(0, 0, False), (0, 99, False), (0, 199, False)]),
        (256, 455, 256, 1, "reference", [(0, 100, False)]),
        # 4:3: 340 x 256 with 224 crops: free 116 x 32, steps 29 and 8.
        (256, 340, 224, 3, "reference", [(16, 0, False), (16, 58, False), (16, 116, False)]),
        (
            256, 340, 224, 5, "reference",
            [(0, 0, False), (0, 116, False), (32, 0, False), (32, 116, False), (16, 58, False)],
        ),
        # portrait 256 x 341 (w x h), 224 crops: free 32 x 117, steps 8 and 29.
        (341, 256, 224, 3, "reference", [(0, 16, False), (58, 16, False), (116, 16, False)]),
        (341, 256, 224, 3, "paper", [(0, 16, False), (58, 16, False), (117, 16, False)]),
        (
            341, 256, 224, 5, "paper",
            [(0, 0, False), (0, 32, False), (117, 0, False), (117, 32, False), (58, 16, False)],
        ),
        # odd free space 1: centre round(0.5) = 0 (half to even) in both.
        (225, 225, 224, 1, "reference", [(0, 0, False)]),
        (227, 227, 224, 1, "reference", [(2, 2, False)]),  # round(1.5) = 2
    ],
)  # fmt: skip
def test_crop_boxes_by_hand(height, width, size, crops, protocol, boxes):
    assert view_boxes(height, width, size, crops, protocol) == boxes


def test_ten_crops_are_five_positions_each_with_its_mirror():
    five = view_boxes(256, 340, 224, 5, "reference")
    ten = view_boxes(256, 340, 224, 10, "reference")
    assert ten == [(t, left, m) for t, left, _ in five for m in (False, True)]
    transform = TestTransform(input_size=32, scale_size=40, num_crops=10)
    out = transform(textured_clip(h=40, w=52))
    assert out.shape == (10, 3, 4, 32, 32)
    for k in range(5):
        assert torch.equal(out[2 * k + 1], out[2 * k].flip(-1))


def test_test_views_are_the_boxes_of_the_resized_frame():
    clip = textured_clip(t=2, h=40, w=71)  # already at scale_size 40: no resize
    transform = TestTransform(input_size=32, scale_size=40, num_crops=5, protocol="reference")
    out = transform(clip)
    for view, (top, left, _) in zip(out, transform.crop_boxes(40, 71), strict=True):
        assert torch.equal(view, clip[..., top : top + 32, left : left + 32].permute(1, 0, 2, 3))


def test_invalid_test_settings():
    with pytest.raises(ConfigError, match="num_crops=2"):
        TestTransform(num_crops=2)
    with pytest.raises(ConfigError, match="scale_size=200 < crop size 224"):
        TestTransform(input_size=224, scale_size=200)
    with pytest.raises(ConfigError, match="crop protocol"):
        TestTransform(protocol="mmaction")
