"""Inflating 2D kernels into 3D ones (I3D's "bootstrapping" from ImageNet weights).

The paper (section E) "simply copies the weights along the time dimension" (``copy``). With
``mean`` the copies are divided by the temporal size, so a 3D convolution applied to a clip
of identical frames returns exactly what the 2D convolution returns for one frame (I3D's
original recipe); BN, pooling and the classifier then carry that equality to the logits.

A 3D kernel may also take more input channels than its 2D source: SlowFast's slow pathway
concatenates the fast pathway's lateral features after its own channels. Those extra input
channels get zero weights, so the inflated network starts as the 2D one on its own channels and
the lateral connections start silent (mmaction2's SlowFast inflation does the same).
"""

from __future__ import annotations

import torch
from torch import Tensor

from actionbench.errors import ModelError


def can_inflate(shape_2d: tuple[int, ...], shape_3d: tuple[int, ...]) -> bool:
    """A (O, I, kh, kw) kernel fits a (O, I + L, kt, kh, kw) one (L >= 0 lateral inputs)."""
    return (
        len(shape_2d) == 4
        and len(shape_3d) == 5
        and shape_2d[0] == shape_3d[0]
        and shape_2d[1] <= shape_3d[1]
        and shape_2d[2:] == shape_3d[3:]
    )


def widens_inputs(shape_2d: tuple[int, ...], shape_3d: tuple[int, ...]) -> bool:
    """Whether inflating ``shape_2d`` into ``shape_3d`` adds (zero) input channels."""
    return can_inflate(shape_2d, shape_3d) and shape_2d[1] < shape_3d[1]


def inflate_to(weight: Tensor, shape_3d: tuple[int, ...], mode: str = "copy") -> Tensor:
    """A 2D kernel inflated to ``shape_3d``: time axis added, extra input channels zero."""
    if not can_inflate(tuple(weight.shape), tuple(shape_3d)):
        raise ModelError(f"cannot inflate a {tuple(weight.shape)} kernel to {tuple(shape_3d)}")
    out = inflate_kernel(weight, shape_3d[2], mode)
    extra = shape_3d[1] - weight.shape[1]
    if extra:
        zeros = out.new_zeros((out.shape[0], extra, *out.shape[2:]))
        out = torch.cat([out, zeros], dim=1)
    return out


def inflate_kernel(weight: Tensor, time_size: int, mode: str = "copy") -> Tensor:
    """(O, I, kh, kw) -> (O, I, time_size, kh, kw) by repetition (``copy``) or averaging (``mean``)."""
    if weight.dim() != 4:
        raise ModelError(f"can only inflate 4D conv kernels, got shape {tuple(weight.shape)}")
    out = weight.unsqueeze(2).repeat(1, 1, time_size, 1, 1)
    if mode == "mean":
        return out / time_size
    if mode != "copy":
        raise ModelError(f"inflation must be 'copy' or 'mean', got {mode!r}")
    return out
