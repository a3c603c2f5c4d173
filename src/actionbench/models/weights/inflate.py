"""Inflating 2D kernels into 3D ones (I3D's "bootstrapping" from ImageNet weights).

The paper (section E) "simply copies the weights along the time dimension" (``copy``). With
``mean`` the copies are divided by the temporal size, so a 3D convolution applied to a clip
of identical frames returns exactly what the 2D convolution returns for one frame (I3D's
original recipe); BN, pooling and the classifier then carry that equality to the logits.
"""

from __future__ import annotations

from torch import Tensor

from actionbench.errors import ModelError


def can_inflate(shape_2d: tuple[int, ...], shape_3d: tuple[int, ...]) -> bool:
    """A (O, I, kh, kw) kernel fits a (O, I, kt, kh, kw) one."""
    return (
        len(shape_2d) == 4
        and len(shape_3d) == 5
        and shape_2d[:2] == shape_3d[:2]
        and shape_2d[2:] == shape_3d[3:]
    )


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
