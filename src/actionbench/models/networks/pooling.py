"""Temporal max pooling (kernel 3, stride 2, padding 1): the paper's optional ``-tp`` switch.

Section E: pooling is added "along with the last three spatial poolings" of every backbone, so
a clip of T frames leaves the network with ceil(T/8) time steps. 2D networks keep frames in
the batch dimension, so their pool reshapes around the time axis; 3D networks pool natively.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

KERNEL, STRIDE, PADDING = 3, 2, 1


def pooled_frames(num_frames: int) -> int:
    """Time steps left after one temporal pooling (ceil(T / 2) for kernel 3, padding 1)."""
    return (num_frames + 2 * PADDING - KERNEL) // STRIDE + 1


def stage_frames(num_frames: int, temporal_pooling: bool, pools: int = 3) -> tuple[int, ...]:
    """Time steps seen by each of the ``pools + 1`` stages of a 2D network that pools time
    (or not) before each of its last ``pools`` stages."""
    frames = [num_frames]
    for _ in range(pools):
        frames.append(pooled_frames(frames[-1]) if temporal_pooling else frames[-1])
    return tuple(frames)


class TemporalMaxPool2d(nn.Module):
    """Max-pool over time for a folded ``(B*T, C, H, W)`` tensor; returns ``(B*T', C, H, W)``.

    The clip is viewed as a ``(B, 1, T, C*H*W)`` image so a contiguous 2D max pool with a
    ``(3, 1)`` window does the work, with no transposes.
    """

    def __init__(self, num_frames: int) -> None:
        super().__init__()
        self.num_frames = num_frames

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        t = self.num_frames
        y = F.max_pool2d(
            x.reshape(n // t, 1, t, c * h * w),
            kernel_size=(KERNEL, 1),
            stride=(STRIDE, 1),
            padding=(PADDING, 0),
        )
        return y.reshape(-1, c, h, w)

    def extra_repr(self) -> str:
        return f"num_frames={self.num_frames}, kernel={KERNEL}, stride={STRIDE}"


def temporal_max_pool3d() -> nn.Module:
    """The same pooling for a native ``(B, C, T, H, W)`` tensor."""
    return nn.MaxPool3d(kernel_size=(KERNEL, 1, 1), stride=(STRIDE, 1, 1), padding=(PADDING, 0, 0))
