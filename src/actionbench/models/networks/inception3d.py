"""3D InceptionV1: I3D (Carreira & Zisserman) and S3D (Xie et al.) in the paper's framework.

torchvision's ``Inception`` module is reused with a 3D ``conv_block`` so that every key of a
2D GoogLeNet state dict has a 3D counterpart of the same name (inflation then only adds a
time axis). I3D turns every k x k convolution into k x k x k with k <= 3 in time (1x1 stays
1x1x1, 3x3 becomes 3x3x3; the 7x7 stem becomes ``stem_t`` x 7 x 7, default 7 as in I3D), and
its inception max pool is 3x3x3 as in the I3D paper. S3D factorises each 3x3x3 convolution
except the stem into a 1x3x3 spatial convolution (keeps the 2D weights) followed by a new
3x1x1 temporal convolution with its own BN and ReLU. Section E: S3D's stem is not factorised
and has no temporal stride.

The pools depend on the layout. ``paper`` (section E): torchvision's spatial pools (3x3, 3x3,
3x3, 2x2, stride 2, ceil mode) and, for ``-tp``, a separate temporal max pool (kernel 3,
stride 2) with ``maxpool2/3/4``. ``reference`` (the reference code's I3D/S3D): ``maxpool1`` is
1x3x3 with padding 1 and no ceil; ``maxpool2``-``maxpool4`` are 3x3x3 with stride (t, 2, 2),
padding 1, no ceil (so they take a max over 3 frames even without temporal pooling; t = 2 for
``-tp``, else 1), except S3D's ``maxpool4``: 2x2x2, stride (t, 2, 2), no padding (one time
step fewer without ``-tp``). The reference layout also applies dropout and the classifier per
time step and starts the classifier at N(0, 0.001).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from torch import Tensor, nn

from actionbench.models.networks.head3d import ClipNet3d
from actionbench.models.networks.inception import INCEPTION_CFG
from actionbench.models.networks.pooling import temporal_max_pool3d
from actionbench.models.weights.init import init_conv_bn, init_linear_small
from actionbench.models.weights.normalization import input_normalization

_tv_googlenet = importlib.import_module("torchvision.models.googlenet")
Inception = _tv_googlenet.Inception

BN_EPS = 0.001  # torchvision GoogLeNet's BatchNorm eps


def _triple(v: int | tuple[int, int, int]) -> tuple[int, int, int]:
    return v if isinstance(v, tuple) else (v, v, v)


class BasicConv3d(nn.Module):
    """Conv3d + BN + ReLU with torchvision's ``BasicConv2d`` attribute names (conv, bn)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv3d(
            in_channels,
            out_channels,
            _triple(kernel_size),
            _triple(stride),
            _triple(padding),
            bias=False,
        )
        self.bn = nn.BatchNorm3d(out_channels, eps=BN_EPS)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv(x)))


class STConv3d(nn.Module):
    """S3D's separable conv: 1xkxk spatial (2D weights) -> BN -> ReLU -> kx1x1 temporal -> BN -> ReLU.

    ``temporal_bias``: the reference code's temporal conv has a bias (``layout="reference"``,
    so parameter counts match its table); BN right after it makes the bias redundant (it only
    shifts BN's running mean), which is why the ``paper`` layout leaves it out.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        padding: int = 0,
        temporal_bias: bool = False,
    ):
        super().__init__()
        k, p = kernel_size, padding
        self.conv = nn.Conv3d(in_channels, out_channels, (1, k, k), padding=(0, p, p), bias=False)
        self.bn = nn.BatchNorm3d(out_channels, eps=BN_EPS)
        self.conv_t = nn.Conv3d(
            out_channels, out_channels, (k, 1, 1), padding=(p, 0, 0), bias=temporal_bias
        )
        self.bn_t = nn.BatchNorm3d(out_channels, eps=BN_EPS)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn(self.conv(x)))
        return self.relu(self.bn_t(self.conv_t(x)))


def i3d_block(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0
):
    """``conv_block`` for torchvision's Inception: k x k -> k x k x k (k is 1 or 3 there)."""
    return BasicConv3d(in_channels, out_channels, kernel_size, (1, stride, stride), padding)


def s3d_block(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    temporal_bias: bool = False,
):
    """``conv_block`` for torchvision's Inception: 1x1 stays pointwise, 3x3 is factorised."""
    if kernel_size == 1:
        return BasicConv3d(in_channels, out_channels, 1)
    if stride != 1:
        raise ValueError("S3D inception convolutions have stride 1")
    return STConv3d(in_channels, out_channels, kernel_size, padding, temporal_bias)


class InceptionV1_3d(ClipNet3d):
    """GoogLeNet with 3D convolutions; ``conv_block`` decides I3D vs S3D.

    Input ``(B, 3, T, H, W)``; output ``(B, num_classes)`` after global average pooling over
    time and space, dropout and the classifier.
    """

    input_mean, input_std = input_normalization("inceptionv1")

    def __init__(
        self,
        *,
        num_classes: int,
        conv_block: Callable[..., nn.Module],
        dropout: float,
        temporal_pooling: bool = False,
        stem_t: int = 7,
        layout: str = "reference",
        pool4_t: int = 3,
    ) -> None:
        super().__init__()
        reference = layout == "reference"
        self.per_step_head = reference
        self.conv1 = BasicConv3d(3, 64, (stem_t, 7, 7), (1, 2, 2), (stem_t // 2, 3, 3))
        if reference:
            t = 2 if temporal_pooling else 1
            self.maxpool1 = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
            self.maxpool2 = nn.MaxPool3d(3, stride=(t, 2, 2), padding=1)
            self.maxpool3 = nn.MaxPool3d(3, stride=(t, 2, 2), padding=1)
            pad4 = 1 if pool4_t == 3 else 0
            self.maxpool4 = nn.MaxPool3d(pool4_t, stride=(t, 2, 2), padding=pad4)
        else:
            self.maxpool1 = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), ceil_mode=True)
            self.maxpool2 = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), ceil_mode=True)
            self.maxpool3 = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), ceil_mode=True)
            self.maxpool4 = nn.MaxPool3d((1, 2, 2), stride=(1, 2, 2), ceil_mode=True)
        pool = temporal_pooling and not reference
        self.conv2 = conv_block(64, 64, kernel_size=1)
        self.conv3 = conv_block(64, 192, kernel_size=3, padding=1)
        self.tpool2 = temporal_max_pool3d() if pool else nn.Identity()
        for cfg in INCEPTION_CFG:
            module = Inception(*cfg[1:], conv_block=conv_block)
            # the branch-4 pool of a 3D inception module also spans 3 frames (I3D paper)
            module.branch4[0] = nn.MaxPool3d(3, stride=1, padding=1, ceil_mode=True)
            setattr(self, cfg[0], module)
        self.tpool3 = temporal_max_pool3d() if pool else nn.Identity()
        self.tpool4 = temporal_max_pool3d() if pool else nn.Identity()
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)
        self.num_features = 1024

        init_conv_bn(self, nn.Conv3d, nn.BatchNorm3d)
        if reference:
            init_linear_small(self.fc)

    def feature_map(self, x: Tensor) -> Tensor:
        """``(B, 3, T, H, W)`` -> ``inception5b``'s ``(B, 1024, T', H', W')`` map."""
        x = self.maxpool1(self.conv1(x))
        x = self.conv3(self.conv2(x))
        x = self.tpool2(self.maxpool2(x))
        x = self.inception3b(self.inception3a(x))
        x = self.tpool3(self.maxpool3(x))
        for name in ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e"):
            x = getattr(self, name)(x)
        x = self.tpool4(self.maxpool4(x))
        return self.inception5b(self.inception5a(x))
