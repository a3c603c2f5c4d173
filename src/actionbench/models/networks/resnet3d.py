"""3D ResNets: I3D-ResNet (ResNet3D), S3D-ResNet (= R(2+1)D) and I3D-SE-ResNet.

Section E of the paper fixes the variants:

* I3D: the stem becomes 3x7x7; in bottleneck blocks only the 3x3 becomes 3x3x3 (23.7M ->
  46.3M parameters for ResNet50), in basic blocks both 3x3 convolutions are inflated (as the
  reference does for ResNet18).
* S3D / R(2+1)D: each 3x3x3 of I3D becomes a 1x3x3 spatial conv (which keeps the 2D weights)
  followed by BN, ReLU and a new 3x1x1 temporal conv with its own BN; the stem is not
  factorised and no channels are expanded between the two convolutions.
* I3D-SE: I3D with squeeze-excitation on every residual branch.

Built as torchvision builds its video ResNets: one basic and one bottleneck block, each given a
conv builder that makes its 3x3 convolution(s) 3D, :data:`INFLATED` (I3D) or :data:`FACTORISED`
(S3D); the variants are the builders, not block classes.

Key names follow torchvision (``layer1.0.conv2.weight`` ...), so ``inflate`` only has to add
a time axis to 2D weights; the new temporal convolutions are ``conv*_t``/``bn*_t``.

Temporal downsampling (``-tp``) depends on the layout. ``paper`` (section E): max pooling
(kernel 3, stride 2) before ``layer2``, ``layer3`` and ``layer4``, as for the 2D ResNets.
``reference`` (the reference code): no pooling; the first block of ``layer2``-``layer4``
strides its first temporal convolution (I3D basic: ``conv1``; I3D bottleneck: ``conv2``; S3D:
``conv1_t`` / ``conv2_t``) and its downsample conv by 2 in time. The reference layout also
applies dropout and the classifier per time step and starts the classifier at N(0, 0.001).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch.nn.functional as F
from torch import Tensor, nn

from actionbench.models.networks.head3d import ClipNet3d
from actionbench.models.networks.pooling import temporal_max_pool3d
from actionbench.models.networks.resnet2d import RESNET_LAYOUTS, STAGE_PLANES, resnet_trunk
from actionbench.models.weights.init import init_conv_bn, init_linear_small


def conv3d(
    cin: int, cout: int, kernel: tuple[int, int, int], stride: int = 1, t_stride: int = 1
) -> nn.Conv3d:
    """Bias-free Conv3d with 'same' padding; ``stride`` in space, ``t_stride`` in time."""
    padding = tuple(k // 2 for k in kernel)
    return nn.Conv3d(
        cin, cout, kernel, stride=(t_stride, stride, stride), padding=padding, bias=False
    )


class ConvBuilder(Protocol):
    """What a block's 2D 3x3 convolution ``i`` becomes in 3D (the one thing I3D and S3D differ in).

    ``add`` gives ``block`` the convolution ``conv{i}`` + ``bn{i}`` (and whatever else the variant
    needs, with names of its own), striding by ``stride`` in space and ``t_stride`` in time;
    ``run`` runs them up to the last batch norm (the block applies the ReLU). The modules are
    the block's own attributes, so the state-dict keys are torchvision's names (``conv2.weight``)
    and a 2D checkpoint inflates key for key.
    """

    def add(
        self, block: nn.Module, i: int, cin: int, cout: int, stride: int = 1, t_stride: int = 1
    ) -> None: ...

    def run(self, block: nn.Module, i: int, x: Tensor) -> Tensor: ...


class Inflated:
    """I3D: the 3x3 becomes one 3x3x3 convolution, striding in space and time."""

    def add(self, block, i, cin, cout, stride=1, t_stride=1) -> None:
        setattr(block, f"conv{i}", conv3d(cin, cout, (3, 3, 3), stride, t_stride))
        setattr(block, f"bn{i}", nn.BatchNorm3d(cout))

    def run(self, block, i, x):
        return getattr(block, f"bn{i}")(getattr(block, f"conv{i}")(x))


class Factorised:
    """S3D / R(2+1)D: a 1x3x3 spatial convolution (which keeps the 2D weights) striding in
    space, BN, ReLU, then a new 3x1x1 temporal convolution ``conv{i}_t`` striding in time and
    its BN ``bn{i}_t``; no channels are expanded between the two."""

    def add(self, block, i, cin, cout, stride=1, t_stride=1) -> None:
        setattr(block, f"conv{i}", conv3d(cin, cout, (1, 3, 3), stride))
        setattr(block, f"bn{i}", nn.BatchNorm3d(cout))
        setattr(block, f"conv{i}_t", conv3d(cout, cout, (3, 1, 1), t_stride=t_stride))
        setattr(block, f"bn{i}_t", nn.BatchNorm3d(cout))

    def run(self, block, i, x):
        x = F.relu(getattr(block, f"bn{i}")(getattr(block, f"conv{i}")(x)), inplace=True)
        return getattr(block, f"bn{i}_t")(getattr(block, f"conv{i}_t")(x))


INFLATED = Inflated()
FACTORISED = Factorised()


class Residual3d(nn.Module):
    """What both blocks share: ``relu(branch(x) [-> se] + shortcut(x))``.

    A block defines its branch's layers (``build_branch``, which registers them first, so the
    state-dict keys are torchvision's order) and how they run (``branch``).
    """

    expansion: int

    def __init__(
        self,
        inplanes: int,
        planes: int,
        conv: ConvBuilder,
        stride: int = 1,
        downsample: nn.Module | None = None,
        se: nn.Module | None = None,
        t_stride: int = 1,
    ) -> None:
        super().__init__()
        self.conv_builder = conv
        self.build_branch(inplanes, planes, stride, t_stride)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.se = se

    def build_branch(self, inplanes: int, planes: int, stride: int, t_stride: int) -> None:
        raise NotImplementedError

    def branch(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.branch(x)
        if self.se is not None:
            out = self.se(out)
        out += identity
        return self.relu(out)


class BasicBlock3d(Residual3d):
    """Basic block: two 3x3 convolutions made 3D by the conv builder; the first strides."""

    expansion = 1

    def build_branch(self, inplanes: int, planes: int, stride: int, t_stride: int) -> None:
        self.conv_builder.add(self, 1, inplanes, planes, stride, t_stride)
        self.conv_builder.add(self, 2, planes, planes)

    def branch(self, x: Tensor) -> Tensor:
        out = self.relu(self.conv_builder.run(self, 1, x))
        return self.conv_builder.run(self, 2, out)


class Bottleneck3d(Residual3d):
    """Bottleneck: 1x1x1 -> the 3x3 made 3D by the conv builder (it strides) -> 1x1x1."""

    expansion = 4

    def build_branch(self, inplanes: int, planes: int, stride: int, t_stride: int) -> None:
        self.conv1 = conv3d(inplanes, planes, (1, 1, 1))
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv_builder.add(self, 2, planes, planes, stride, t_stride)
        self.conv3 = conv3d(planes, planes * self.expansion, (1, 1, 1))
        self.bn3 = nn.BatchNorm3d(planes * self.expansion)

    def branch(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.conv_builder.run(self, 2, out))
        return self.bn3(self.conv3(out))


class VideoResNet3d(ClipNet3d):
    """ResNet with 3D convolutions over ``(B, C, T, H, W)`` clips.

    Args:
        depth: 18, 34, 50 or 101.
        conv: how the blocks' 3x3 convolutions become 3D: :data:`INFLATED` (I3D) or
            :data:`FACTORISED` (S3D).
        num_classes: classifier size.
        dropout: dropout before the classifier.
        temporal_pooling: halve time at ``layer2``, ``layer3``, ``layer4`` (see module doc).
        se: factory ``channels -> module`` for a squeeze-excitation on every residual branch
            (I3D only).
        layout: "reference" or "paper" (module doc).
    """

    def __init__(
        self,
        depth: int,
        conv: ConvBuilder,
        *,
        num_classes: int,
        dropout: float,
        temporal_pooling: bool = False,
        se: Callable[[int], nn.Module] | None = None,
        layout: str = "reference",
    ) -> None:
        super().__init__()
        if se is not None and not isinstance(conv, Inflated):
            raise ValueError("squeeze-excitation is defined for I3D blocks only")
        kind, layers = RESNET_LAYOUTS[depth]
        block = BasicBlock3d if kind == "basic" else Bottleneck3d
        reference = layout == "reference"
        self.per_step_head = reference
        pool = temporal_pooling and not reference
        t_stride = 2 if temporal_pooling and reference else 1
        self.inplanes = 64
        self.conv1 = nn.Conv3d(3, 64, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.layer1 = self._make_layer(block, conv, STAGE_PLANES[0], layers[0], 1, se)
        self.tpool1 = temporal_max_pool3d() if pool else nn.Identity()
        self.layer2 = self._make_layer(block, conv, STAGE_PLANES[1], layers[1], 2, se, t_stride)
        self.tpool2 = temporal_max_pool3d() if pool else nn.Identity()
        self.layer3 = self._make_layer(block, conv, STAGE_PLANES[2], layers[2], 2, se, t_stride)
        self.tpool3 = temporal_max_pool3d() if pool else nn.Identity()
        self.layer4 = self._make_layer(block, conv, STAGE_PLANES[3], layers[3], 2, se, t_stride)
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self.num_features = 512 * block.expansion

        init_conv_bn(self, nn.Conv3d, nn.BatchNorm3d)
        if reference:
            init_linear_small(self.fc)

    def _make_layer(
        self, block, conv: ConvBuilder, planes: int, blocks: int, stride: int, se, t_stride: int = 1
    ) -> nn.Sequential:
        out_channels = planes * block.expansion
        downsample = None
        if stride != 1 or self.inplanes != out_channels:
            downsample = nn.Sequential(
                conv3d(self.inplanes, out_channels, (1, 1, 1), stride, t_stride),
                nn.BatchNorm3d(out_channels),
            )
        layers = []
        for i in range(blocks):
            layers.append(
                block(
                    self.inplanes,
                    planes,
                    conv,
                    stride if i == 0 else 1,
                    downsample if i == 0 else None,
                    se=se(out_channels) if se is not None else None,
                    t_stride=t_stride if i == 0 else 1,
                )
            )
            self.inplanes = out_channels
        return nn.Sequential(*layers)

    def feature_map(self, x: Tensor) -> Tensor:
        """``(B, 3, T, H, W)`` -> the last stage's ``(B, C, T', H', W')`` map."""
        return resnet_trunk(self, x)
