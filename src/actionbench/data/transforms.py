"""Spatial transforms of a clip, a uint8 tensor (T, C, H, W) -> float (C, T, H, W).

Every frame of a clip gets the *same* crop and the *same* flip: a different crop per frame
would fake motion that is not in the video and teach temporal models nonsense.

* Training (TSN multi-scale crop, as the paper's protocol): a crop width and height are each
  drawn from ``scales`` x the shorter side (at most ``max_distort`` scale steps apart, so the
  aspect ratio stays moderate), placed at one of 13 fixed positions (corners, centre, edge
  centres, quarter points), resized to ``input_size`` square; then a horizontal flip with
  p = 0.5 unless ``flip=False``. Flip must be off for SSV2 and Jester, where "left to right" and
  "right to left" are different classes.
* Testing: shorter side resized to ``scale_size``, then a centre crop of ``input_size`` (1 crop),
  or 3 crops along the longer side (left/top, centre, right/bottom).

Both end with ImageNet mean/std normalisation, the statistics the pretrained backbones expect.
The paper's clip-level protocol is ``scale_size = input_size = 224`` with 1 crop; its video-level
one uses 3 crops of 256 after resizing to 256.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision.transforms.v2 import functional as F

from actionbench.errors import ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TSN_SCALES = (1.0, 0.875, 0.75, 0.66)
# Crop positions in quarters of the free space (x, y): corners, centre, edge centres, quarters.
_GRID = (
    (0, 0), (4, 0), (0, 4), (4, 4), (2, 2),
    (0, 2), (4, 2), (2, 4), (2, 0),
    (1, 1), (3, 1), (1, 3), (3, 3),
)  # fmt: skip


def normalize(clip: torch.Tensor, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> torch.Tensor:
    """uint8 (T, C, H, W) -> float32 (C, T, H, W), ImageNet-normalised."""
    scale = torch.tensor([255.0 * s for s in std]).view(1, 3, 1, 1)
    shift = torch.tensor([255.0 * m for m in mean]).view(1, 3, 1, 1)
    out = (clip.to(torch.float32) - shift) / scale
    return out.permute(1, 0, 2, 3).contiguous()


def _check_clip(clip: torch.Tensor) -> None:
    if clip.ndim != 4 or clip.shape[1] != 3 or clip.dtype != torch.uint8:
        raise ValueError(
            f"expected a uint8 clip (T, 3, H, W), got {tuple(clip.shape)} {clip.dtype}"
        )


class TrainTransform:
    """Multi-scale crop + optional flip + normalisation, identical for every frame of a clip."""

    def __init__(
        self,
        input_size: int = 224,
        scales: tuple[float, ...] = TSN_SCALES,
        max_distort: int = 1,
        flip: bool = True,
        mean: tuple[float, float, float] = IMAGENET_MEAN,
        std: tuple[float, float, float] = IMAGENET_STD,
    ):
        if input_size < 1:
            raise ConfigError(f"input_size={input_size}; expected a positive number of pixels")
        self.input_size = input_size
        self.scales = tuple(scales)
        self.max_distort = max_distort
        self.flip = flip
        self.mean, self.std = mean, std

    def crop_params(
        self, height: int, width: int, rng: np.random.Generator
    ) -> tuple[int, int, int, int]:
        """(top, left, crop_h, crop_w) of one TSN multi-scale crop."""
        base = min(height, width)
        sizes = [int(base * s) for s in self.scales]
        # Sizes within 3 px of the target snap to it (avoids a needless near-1 resize).
        sizes = [self.input_size if abs(s - self.input_size) < 3 else s for s in sizes]
        pairs = [
            (h, w)
            for i, h in enumerate(sizes)
            for j, w in enumerate(sizes)
            if abs(i - j) <= self.max_distort
        ]
        crop_h, crop_w = pairs[int(rng.integers(len(pairs)))]
        crop_h, crop_w = max(1, min(crop_h, height)), max(1, min(crop_w, width))
        qx, qy = _GRID[int(rng.integers(len(_GRID)))]
        left = qx * ((width - crop_w) // 4)
        top = qy * ((height - crop_h) // 4)
        return top, left, crop_h, crop_w

    def __call__(self, clip: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """uint8 (T, C, H, W) -> float (C, T, input_size, input_size)."""
        _check_clip(clip)
        top, left, crop_h, crop_w = self.crop_params(clip.shape[-2], clip.shape[-1], rng)
        out = F.resized_crop(
            clip, top, left, crop_h, crop_w, [self.input_size, self.input_size], antialias=True
        )
        if self.flip and rng.random() < 0.5:
            out = out.flip(-1)
        return normalize(out, self.mean, self.std)


class TestTransform:
    """Resize shorter side + 1 or 3 deterministic crops + normalisation."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        input_size: int = 224,
        scale_size: int = 256,
        num_crops: int = 1,
        mean: tuple[float, float, float] = IMAGENET_MEAN,
        std: tuple[float, float, float] = IMAGENET_STD,
    ):
        if num_crops not in (1, 3):
            raise ConfigError(f"num_crops={num_crops}; expected 1 or 3")
        if scale_size < input_size:
            raise ConfigError(
                f"scale_size={scale_size} < input_size={input_size}: the crop would not fit"
            )
        self.input_size, self.scale_size, self.num_crops = input_size, scale_size, num_crops
        self.mean, self.std = mean, std

    def crop_origins(self, height: int, width: int) -> list[tuple[int, int]]:
        """(top, left) of each crop: centre, or start/centre/end along the longer side."""
        size = self.input_size
        top, left = (height - size) // 2, (width - size) // 2
        if self.num_crops == 1:
            return [(top, left)]
        if width >= height:
            return [(top, 0), (top, left), (top, width - size)]
        return [(0, left), (top, left), (height - size, left)]

    def __call__(self, clip: torch.Tensor) -> torch.Tensor:
        """uint8 (T, C, H, W) -> float (num_crops, C, T, input_size, input_size)."""
        _check_clip(clip)
        resized = F.resize(clip, [self.scale_size], antialias=True)
        size = self.input_size
        crops = [
            resized[..., top : top + size, left : left + size]
            for top, left in self.crop_origins(resized.shape[-2], resized.shape[-1])
        ]
        return torch.stack([normalize(c, self.mean, self.std) for c in crops])
