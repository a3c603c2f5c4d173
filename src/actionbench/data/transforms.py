"""Spatial transforms of a clip, uint8 in and uint8 out; normalisation happens on the device.

Every frame of a clip gets the *same* crop and the *same* flip: a different crop per frame
would fake motion that is not in the video and teach temporal models nonsense.

Why uint8 all the way: cropping and resizing 8-bit pixels before any conversion to float keeps
the loader near its decoder's speed (resizing uint8 channels-last images has a fast path in
torch; a float clip is 4x the bytes to resize, copy, collate and send to the GPU). The float
conversion and the model's mean/std (:func:`actionbench.models.input_normalization`) are applied
to the whole batch on the device by :class:`BatchNormalize`.

Input: a uint8 clip from any source (JPEG frames, a video decoder), laid out ``"TCHW"``
(default), ``"THWC"`` or ``"CTHW"``; say which with ``dims``.

* Training (TSN multi-scale crop, the paper's and the reference code's protocol): a crop width
  and height are each drawn from ``scales`` x the shorter side (at most ``max_distort`` scale
  steps apart), placed at one of 13 fixed positions (corners, centre, edge centres, quarter
  points on a grid of ``floor((W - w) / 4)``), resized to ``input_size`` square; then a
  horizontal flip with p = 0.5 unless ``flip=False``. Output uint8 (C, T, S, S).
* Testing: shorter side resized to ``scale_size``, then 1, 3, 5 or 10 square crops of
  ``crop_size`` (10 = the 5 positions, each followed by its mirror image). ``protocol`` picks the
  crop arithmetic: ``"reference"`` (IBM/action-recognition-pytorch: rounded centre offset as
  torchvision's CenterCrop, 3/5-crop offsets on the grid ``4 * floor((W - size) / 4)``) or
  ``"paper"`` (floored centre, exact edges). Output uint8 (V, C, T, size, size).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torchvision.transforms.v2 import functional as F

from actionbench.defaults import DATASET
from actionbench.errors import ConfigError

TSN_SCALES = (1.0, 0.875, 0.75, 0.66)
TEST_CROPS = (1, 3, 5, 10)
CROP_PROTOCOLS = ("reference", "paper")
CLIP_DIMS = ("TCHW", "THWC", "CTHW")
# Crop positions in quarters of the free space (x, y): corners, centre, edge centres, quarters.
_GRID = (
    (0, 0), (4, 0), (0, 4), (4, 4), (2, 2),
    (0, 2), (4, 2), (2, 4), (2, 0),
    (1, 1), (3, 1), (1, 3), (3, 3),
)  # fmt: skip


def as_frames(clip: torch.Tensor, dims: str = "TCHW") -> torch.Tensor:
    """A uint8 clip as a (T, C, H, W) view, channels-last in memory when the source allows."""
    if dims not in CLIP_DIMS:
        raise ValueError(f"dims={dims!r}; expected one of {', '.join(CLIP_DIMS)}")
    if clip.ndim != 4 or clip.dtype != torch.uint8:
        raise ValueError(f"expected a uint8 clip {dims}, got {tuple(clip.shape)} {clip.dtype}")
    frames = {"TCHW": clip, "THWC": clip.permute(0, 3, 1, 2), "CTHW": clip.permute(1, 0, 2, 3)}[
        dims
    ]
    if frames.shape[1] != 3:
        raise ValueError(f"expected 3 colour channels in a {dims} clip, got {tuple(clip.shape)}")
    return frames


def _resize(frames: torch.Tensor, size: list[int]) -> torch.Tensor:
    """Antialiased bilinear resize of uint8 (T, 3, H, W), on torch's channels-last uint8 path."""
    frames = frames.contiguous(memory_format=torch.channels_last)
    return F.resize(frames, size, antialias=True)


def to_clip(frames: torch.Tensor, mirror: bool = False) -> torch.Tensor:
    """(T, C, H, W) -> contiguous (C, T, H, W), the models' layout, mirrored if asked.

    One copy, through numpy: de-interleaving channels-last uint8 pixels is about twice as fast
    with numpy's strided copy as with torch's, and the mirror rides along as a negative stride.
    """
    array = frames.numpy().transpose(1, 0, 2, 3)
    return torch.from_numpy(np.ascontiguousarray(array[..., ::-1] if mirror else array))


class TrainTransform:
    """Multi-scale crop + optional flip, identical for every frame of a clip; uint8 out."""

    def __init__(
        self,
        input_size: int = DATASET["input_size"],
        scales: tuple[float, ...] = TSN_SCALES,
        max_distort: int = 1,
        flip: bool = True,
    ):
        if input_size < 1:
            raise ConfigError(f"input_size={input_size}; expected a positive number of pixels")
        self.input_size = input_size
        self.scales = tuple(scales)
        self.max_distort = max_distort
        self.flip = flip

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

    def __call__(
        self, clip: torch.Tensor, rng: np.random.Generator, dims: str = "TCHW"
    ) -> torch.Tensor:
        """uint8 clip -> uint8 (C, T, input_size, input_size)."""
        frames = as_frames(clip, dims)
        top, left, crop_h, crop_w = self.crop_params(frames.shape[-2], frames.shape[-1], rng)
        out = _resize(
            frames[..., top : top + crop_h, left : left + crop_w],
            [self.input_size, self.input_size],
        )
        return to_clip(out, mirror=self.flip and rng.random() < 0.5)


def _center(free: int, protocol: str) -> int:
    # torchvision's CenterCrop (the reference) rounds half to even; the paper protocol floors.
    return int(round(free / 2.0)) if protocol == "reference" else free // 2


def view_boxes(
    height: int, width: int, size: int, num_crops: int, protocol: str = "reference"
) -> list[tuple[int, int, bool]]:
    """``(top, left, mirrored)`` of each test view of a (height, width) frame, in view order.

    1: centre. 3: start/centre/end along the longer side. 5: four corners, then the centre.
    10: the 5 crops, each followed by its mirror image.
    """
    if num_crops not in TEST_CROPS:
        raise ConfigError(f"num_crops={num_crops}; expected one of {list(TEST_CROPS)}")
    if protocol not in CROP_PROTOCOLS:
        raise ConfigError(f"crop protocol {protocol!r}; expected one of {list(CROP_PROTOCOLS)}")
    if size > min(height, width):
        raise ConfigError(f"crop size {size} does not fit a {height}x{width} frame")
    free_h, free_w = height - size, width - size
    if num_crops == 1:
        return [(_center(free_h, protocol), _center(free_w, protocol), False)]
    if protocol == "reference":
        step_h, step_w = free_h // 4, free_w // 4
        last_h, last_w, mid_h, mid_w = 4 * step_h, 4 * step_w, 2 * step_h, 2 * step_w
    else:
        last_h, last_w, mid_h, mid_w = free_h, free_w, free_h // 2, free_w // 2
    if num_crops == 3:
        if width >= height:
            boxes = [(mid_h, 0), (mid_h, mid_w), (mid_h, last_w)]
        else:
            boxes = [(0, mid_w), (mid_h, mid_w), (last_h, mid_w)]
        return [(top, left, False) for top, left in boxes]
    five = [(0, 0), (0, last_w), (last_h, 0), (last_h, last_w), (mid_h, mid_w)]
    if num_crops == 5:
        return [(top, left, False) for top, left in five]
    return [(top, left, mirrored) for top, left in five for mirrored in (False, True)]


class TestTransform:
    """Resize shorter side + 1/3/5/10 deterministic crops; uint8 (V, C, T, size, size) out."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        input_size: int = DATASET["input_size"],
        scale_size: int = DATASET["scale_size"],
        num_crops: int = 1,
        protocol: str = "reference",
    ):
        if num_crops not in TEST_CROPS:
            raise ConfigError(f"num_crops={num_crops}; expected one of {list(TEST_CROPS)}")
        if protocol not in CROP_PROTOCOLS:
            raise ConfigError(f"crop protocol {protocol!r}; expected one of {list(CROP_PROTOCOLS)}")
        if scale_size < input_size:
            raise ConfigError(
                f"scale_size={scale_size} < crop size {input_size}: the crop would not fit"
            )
        self.input_size, self.scale_size, self.num_crops = input_size, scale_size, num_crops
        self.protocol = protocol

    def crop_boxes(self, height: int, width: int) -> list[tuple[int, int, bool]]:
        """``(top, left, mirrored)`` of each view of a frame already resized to ``scale_size``."""
        return view_boxes(height, width, self.input_size, self.num_crops, self.protocol)

    def __call__(self, clip: torch.Tensor, dims: str = "TCHW") -> torch.Tensor:
        """uint8 clip -> uint8 (num_crops, C, T, input_size, input_size)."""
        frames = as_frames(clip, dims)
        height, width = frames.shape[-2:]
        short, long_ = min(height, width), max(height, width)
        # The longer side as torchvision computes it: int(scale_size * long / short).
        new_long = int(self.scale_size * long_ / short)
        size = [self.scale_size, new_long] if height <= width else [new_long, self.scale_size]
        resized = _resize(frames, size) if [height, width] != size else frames
        s = self.input_size
        views = []
        for top, left, mirrored in self.crop_boxes(*resized.shape[-2:]):
            view = resized[..., top : top + s, left : left + s]
            views.append(to_clip(view, mirror=mirrored))
        return torch.stack(views)


class BatchNormalize:
    """uint8 batch (..., C, T, H, W) -> float32 ``(x / 255 - mean) / std`` on its own device.

    Runs where the batch is (the GPU in training), after the uint8 batch has been transferred.
    A batch that is already floating point (a dataset that normalises itself) passes unchanged.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ConfigError(f"mean={tuple(mean)}, std={tuple(std)}: need 3 values, std > 0")
        self.mean, self.std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
        self._cache: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    def _stats(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if device not in self._cache:
            scale = torch.tensor([255.0 * s for s in self.std], device=device)
            shift = torch.tensor([255.0 * m for m in self.mean], device=device)
            self._cache[device] = (shift.view(3, 1, 1, 1), scale.view(3, 1, 1, 1))
        return self._cache[device]

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        if batch.is_floating_point():
            return batch
        if batch.dtype != torch.uint8 or batch.ndim < 4 or batch.shape[-4] != 3:
            raise ValueError(
                f"expected a uint8 batch (..., 3, T, H, W), got {tuple(batch.shape)} {batch.dtype}"
            )
        shift, scale = self._stats(batch.device)
        return (batch.to(torch.float32) - shift) / scale

    def __repr__(self) -> str:
        return f"BatchNormalize(mean={self.mean}, std={self.std})"


def normalize(clip: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """One uint8 clip (C, T, H, W) (or a batch of them) -> normalised float32, on the CPU."""
    return BatchNormalize(mean, std)(clip)
