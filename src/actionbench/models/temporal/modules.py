"""Temporal modules that turn a 2D (frame-wise) network into a video network.

Each module maps a folded ``(B*T, C, H, W)`` tensor to a tensor of the same shape and is
handed to a block by its builder (torchvision style): blocks never switch them on by flags.
A *temporal factory* is any callable ``(channels, num_frames) -> nn.Module``.

* :class:`TAM` - temporal aggregation (Chen et al.): three depthwise 1x1 filters applied to
  the previous, current and next frame, summed, ReLU. 3*C parameters.
* :class:`TemporalShift` - TSM (Lin et al.): 1/8 of the channels shifted one frame back, 1/8
  one frame forward. No parameters.
* :class:`TemporalConv` - "Conv." of the paper's Table 5: the dense counterpart of TAM, a
  kernel-3 temporal convolution C -> C followed by ReLU. 3*C*C parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from actionbench.models.temporal import batched as temporal_batched
from actionbench.models.temporal import ops as temporal_ops
from actionbench.models.temporal.path import use_batched
from actionbench.spec import TAM_LOCATIONS

TemporalFactory = Callable[[int, int], nn.Module]


class TAM(nn.Module):
    """Temporal aggregation module; ``weight[c, k]`` weighs frame ``t + k - 1`` of channel c."""

    def __init__(self, channels: int, num_frames: int) -> None:
        super().__init__()
        self.channels = channels
        self.num_frames = num_frames
        self.weight = nn.Parameter(torch.empty(channels, 3))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Same distribution as the reference's depthwise nn.Conv2d default init (fan_in = 1).
        nn.init.uniform_(self.weight, -1.0, 1.0)

    def forward(self, x: Tensor) -> Tensor:
        if use_batched(x.device):
            return temporal_batched.tam(x, self.weight, self.num_frames)
        return temporal_ops.tam(x, self.weight, self.num_frames)

    def then_conv(self, conv: nn.Module, x: Tensor) -> Tensor:
        """``conv(self(x))``; on the fused (CPU) path fused with a plain 1x1 conv so TAM's
        output is never materialised (it is what made TAM-ResNet50 slow to train on CPUs, see
        temporal_ops); on the batched (accelerator) path the two run in turn."""
        if x.device.type == "cpu" and not use_batched(x.device) and _is_plain_1x1(conv):
            return temporal_ops.tam_conv1x1(x, self.weight, conv.weight, self.num_frames)
        return conv(self(x))

    def extra_repr(self) -> str:
        return f"channels={self.channels}, num_frames={self.num_frames}"


def _is_plain_1x1(conv: nn.Module) -> bool:
    return (
        type(conv) is nn.Conv2d
        and conv.kernel_size == (1, 1)
        and conv.stride == (1, 1)
        and conv.padding == (0, 0)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.bias is None
    )


def temporal_then_conv(temporal: nn.Module | None, conv: nn.Module, x: Tensor) -> Tensor:
    """The start of a residual branch: temporal module (if any), then the branch's first conv.

    Modules with a ``then_conv(conv, x)`` method may fuse the two; others are applied in turn.
    """
    if temporal is None:
        return conv(x)
    fused = getattr(temporal, "then_conv", None)
    return fused(conv, x) if fused is not None else conv(temporal(x))


class TemporalShift(nn.Module):
    """TSM residual shift: ``channels // fold_div`` channels each way, zero-padded in time."""

    def __init__(self, channels: int, num_frames: int, fold_div: int = 8) -> None:
        super().__init__()
        self.channels = channels
        self.num_frames = num_frames
        self.fold_div = fold_div

    def forward(self, x: Tensor) -> Tensor:
        if use_batched(x.device):
            return temporal_batched.temporal_shift(x, self.num_frames, self.fold_div)
        return temporal_ops.temporal_shift(x, self.num_frames, self.fold_div)

    def then_conv(self, conv: nn.Module, x: Tensor) -> Tensor:
        """``conv(self(x))``; on the fused (CPU) path a plain 1x1 conv reads the shifted
        channels in place."""
        if x.device.type == "cpu" and not use_batched(x.device) and _is_plain_1x1(conv):
            return temporal_ops.tsm_conv1x1(x, conv.weight, self.num_frames, self.fold_div)
        return conv(self(x))

    def extra_repr(self) -> str:
        return f"channels={self.channels}, num_frames={self.num_frames}, fold_div={self.fold_div}"


class TemporalConv(nn.Module):
    """Dense temporal convolution (kernel 3, C -> C, no bias) + ReLU at TAM's places.

    ``weight[o, i, k]`` multiplies channel i of frame ``t + k - 1``; computed as three GEMMs
    per frame into the output on the fused (CPU) path (``temporal_ops.temporal_conv``), as one
    (3, 1, 1) Conv3d on the batched path (``temporal_batched.temporal_conv``).
    """

    def __init__(self, channels: int, num_frames: int) -> None:
        super().__init__()
        self.channels = channels
        self.num_frames = num_frames
        self.weight = nn.Parameter(torch.empty(channels, channels, 3))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # nn.Conv3d's default (kaiming-uniform, a=sqrt(5)) for a (C, C, 3, 1, 1) kernel.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def forward(self, x: Tensor) -> Tensor:
        if use_batched(x.device):
            return temporal_batched.temporal_conv(x, self.weight, self.num_frames)
        return temporal_ops.temporal_conv(x, self.weight, self.num_frames)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, num_frames={self.num_frames}"


def select_locations(num_slots: int, locations: str) -> list[int]:
    """Indices of the slots (residual blocks / inception stages) that get a temporal module.

    Table 6: *top* = the half closest to the output, *bottom* = closest to the input,
    *uniform* = every other slot (the 2nd, 4th, ...). Halves hold ``num_slots // 2`` slots.
    """
    if locations not in TAM_LOCATIONS:
        raise ValueError(f"tam_locations must be one of {TAM_LOCATIONS}, got {locations!r}")
    half = num_slots // 2
    if locations == "all":
        return list(range(num_slots))
    if locations == "top_half":
        return list(range(num_slots - half, num_slots))
    if locations == "bottom_half":
        return list(range(half))
    return list(range(1, num_slots, 2))


def make_slots(
    factory: TemporalFactory | None, specs: Sequence[tuple[int, int]], locations: str
) -> list[nn.Module | None]:
    """One entry per slot ``(channels, num_frames)``: a module where selected, else None."""
    if factory is None:
        return [None] * len(specs)
    chosen = set(select_locations(len(specs), locations))
    return [factory(c, t) if i in chosen else None for i, (c, t) in enumerate(specs)]
