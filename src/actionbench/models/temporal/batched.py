"""Batched (accelerator) implementations of TAM, TSM and the dense temporal conv.

Why a second implementation: the fused ops of :mod:`temporal_ops` loop over frames in Python
(the dense temporal conv runs 3*B*T small GEMMs forward and again backward), which keeps a CPU's
cache warm but leaves a GPU idle between hundreds of tiny kernel launches. Here every module is
a few whole-tensor kernels whatever the batch and clip length:

* TAM and the dense temporal conv are one ``Conv3d`` with a ``(3, 1, 1)`` kernel (depthwise for
  TAM) over a ``(B, C, T, H, W)`` *view* of the folded ``(B*T, C, H, W)`` tensor, then ReLU. The
  convolution library picks its own kernel for that layout; under ``channels_last`` the view is
  exactly ``channels_last_3d`` and nothing is copied at all.
* TSM is one ``gather`` along the folded frame axis with a per-channel frame index (t+1, t-1 or
  t, clamped to the clip) and one multiply by a 0/1 mask that zero-pads the clip ends; its
  backward is the same two kernels with the opposite shift (deterministic: no scatter-add).

Autograd derives TAM's and the temporal conv's backward passes (``convolution_backward`` and
``threshold_backward``); the same arithmetic as the fused ops, so results agree to rounding
(tested in float64, forward and gradients).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from actionbench.models.temporal.ops import clips_in

__all__ = ["tam", "temporal_conv", "temporal_shift"]


def _clip_view(x: Tensor, num_frames: int) -> Tensor:
    """(B*T, C, H, W) -> (B, C, T, H, W) view (no copy)."""
    _, c, h, w = x.shape
    return x.view(clips_in(x, num_frames), num_frames, c, h, w).transpose(1, 2)


def _fold(y: Tensor) -> Tensor:
    """(B, C, T, H, W) -> (B*T, C, H, W): a view when the convolution wrote its output with
    frames outermost (always under channels_last), else one copy."""
    b, c, t, h, w = y.shape
    y = y.transpose(1, 2)
    if y.stride(0) != t * y.stride(1):  # clips not stored frame after frame
        y = y.contiguous()
    return y.view(b * t, c, h, w)


def tam(x: Tensor, weight: Tensor, num_frames: int) -> Tensor:
    """TAM: depthwise 3-tap temporal filter (``weight`` ``(C, 3)``, tap k on frame t+k-1) + ReLU."""
    c = weight.shape[0]
    y = F.conv3d(_clip_view(x, num_frames), weight.view(c, 1, 3, 1, 1), padding=(1, 0, 0), groups=c)
    return _fold(torch.relu_(y))


def temporal_conv(x: Tensor, weight: Tensor, num_frames: int) -> Tensor:
    """Dense kernel-3 temporal conv C -> C (``weight`` ``(C, C, 3)``), zero-padded, ReLU."""
    o, i, k = weight.shape
    y = F.conv3d(_clip_view(x, num_frames), weight.view(o, i, k, 1, 1), padding=(1, 0, 0))
    return _fold(torch.relu_(y))


# --------------------------------------------------------------------------------------------
# TSM as gather + mask
# --------------------------------------------------------------------------------------------

_SHIFT_CACHE: dict[tuple, tuple[Tensor, Tensor]] = {}


def _shift_index(
    n: int, c: int, num_frames: int, fold_div: int, direction: int, device, dtype
) -> tuple[Tensor, Tensor]:
    """Source frame of every (frame, channel) and the 0/1 mask of in-clip sources, (N, C, 1, 1).

    ``direction=+1`` is TSM (channels [0, f) read frame t+1, [f, 2f) frame t-1); ``-1`` its
    adjoint. Cached per shape and device: built once, reused by every step.
    """
    key = (n, c, num_frames, fold_div, direction, str(device), dtype)
    hit = _SHIFT_CACHE.get(key)
    if hit is not None:
        return hit
    fold = c // fold_div
    shift = torch.zeros(c, dtype=torch.long)
    shift[:fold] = direction
    shift[fold : 2 * fold] = -direction
    frame = torch.arange(n) % num_frames
    src_t = frame[:, None] + shift[None, :]  # (N, C)
    valid = (src_t >= 0) & (src_t < num_frames)
    src = (torch.arange(n)[:, None] + shift[None, :]).clamp(0, n - 1)
    src = torch.where(valid, src, torch.arange(n)[:, None].expand(n, c))
    entry = (
        src.view(n, c, 1, 1).to(device),
        valid.view(n, c, 1, 1).to(device=device, dtype=dtype),
    )
    if len(_SHIFT_CACHE) > 256:  # many input sizes (evaluation tails): keep memory bounded
        _SHIFT_CACHE.clear()
    _SHIFT_CACHE[key] = entry
    return entry


def _shift(x: Tensor, num_frames: int, fold_div: int, direction: int) -> Tensor:
    clips_in(x, num_frames)  # whole clips only
    n, c, h, w = x.shape
    index, mask = _shift_index(n, c, num_frames, fold_div, direction, x.device, x.dtype)
    return torch.gather(x, 0, index.expand(n, c, h, w)).mul_(mask)


class _TemporalShift(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, num_frames: int, fold_div: int) -> Tensor:
        ctx.num_frames, ctx.fold_div = num_frames, fold_div
        return _shift(x, num_frames, fold_div, +1)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return _shift(grad, ctx.num_frames, ctx.fold_div, -1), None, None


def temporal_shift(x: Tensor, num_frames: int, fold_div: int) -> Tensor:
    """TSM shift, zero-padded at the clip ends: two kernels forward, two backward."""
    return _TemporalShift.apply(x, num_frames, fold_div)
