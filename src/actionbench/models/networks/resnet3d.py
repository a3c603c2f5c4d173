"""3D ResNets: I3D-ResNet (ResNet3D), S3D-ResNet (= R(2+1)D) and I3D-SE-ResNet.

Section E of the paper fixes the variants:

* I3D: the stem becomes 3x7x7; in bottleneck blocks only the 3x3 becomes 3x3x3 (23.7M ->
  46.3M parameters for ResNet50), in basic blocks both 3x3 convolutions are inflated (as the
  reference does for ResNet18).
* S3D / R(2+1)D: each 3x3x3 of I3D becomes a 1x3x3 spatial conv (which keeps the 2D weights)
  followed by BN, ReLU and a new 3x1x1 temporal conv with its own BN; the stem is not
  factorised and no channels are expanded between the two convolutions.
* I3D-SE: I3D with squeeze-excitation on every residual branch.

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

from torch import Tensor, nn

from actionbench.models.networks.head3d import clip_logits
from actionbench.models.networks.pooling import temporal_max_pool3d
from actionbench.models.networks.resnet2d import RESNET_LAYOUTS, STAGE_PLANES
from actionbench.models.weights.init import init_conv_bn, init_linear_small


def conv3d(
    cin: int, cout: int, kernel: tuple[int, int, int], stride: int = 1, t_stride: int = 1
) -> nn.Conv3d:
    """Bias-free Conv3d with 'same' padding; ``stride`` in space, ``t_stride`` in time."""
    padding = tuple(k // 2 for k in kernel)
    return nn.Conv3d(
        cin, cout, kernel, stride=(t_stride, stride, stride), padding=padding, bias=False
    )


class BasicBlock3d(nn.Module):
    """I3D basic block: two 3x3x3 convolutions."""

    expansion = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample=None, se=None, t_stride=1
    ):
        super().__init__()
        self.conv1 = conv3d(inplanes, planes, (3, 3, 3), stride, t_stride)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = conv3d(planes, planes, (3, 3, 3))
        self.bn2 = nn.BatchNorm3d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.se = se

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.se is not None:
            out = self.se(out)
        out += identity
        return self.relu(out)


class Bottleneck3d(nn.Module):
    """I3D bottleneck: 1x1x1 -> 3x3x3 -> 1x1x1 (only the middle convolution is inflated)."""

    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample=None, se=None, t_stride=1
    ):
        super().__init__()
        width = planes
        self.conv1 = conv3d(inplanes, width, (1, 1, 1))
        self.bn1 = nn.BatchNorm3d(width)
        self.conv2 = conv3d(width, width, (3, 3, 3), stride, t_stride)
        self.bn2 = nn.BatchNorm3d(width)
        self.conv3 = conv3d(width, planes * self.expansion, (1, 1, 1))
        self.bn3 = nn.BatchNorm3d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.se = se

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.se is not None:
            out = self.se(out)
        out += identity
        return self.relu(out)


class BasicBlock2Plus1d(nn.Module):
    """S3D basic block: each 3x3x3 of I3D factorised into 1x3x3 + 3x1x1."""

    expansion = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample=None, se=None, t_stride=1
    ):
        super().__init__()
        if se is not None:
            raise ValueError("squeeze-excitation is defined for I3D blocks only")
        self.conv1 = conv3d(inplanes, planes, (1, 3, 3), stride)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv1_t = conv3d(planes, planes, (3, 1, 1), t_stride=t_stride)
        self.bn1_t = nn.BatchNorm3d(planes)
        self.conv2 = conv3d(planes, planes, (1, 3, 3))
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv2_t = conv3d(planes, planes, (3, 1, 1))
        self.bn2_t = nn.BatchNorm3d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn1_t(self.conv1_t(out)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn2_t(self.conv2_t(out))
        out += identity
        return self.relu(out)


class Bottleneck2Plus1d(nn.Module):
    """S3D bottleneck: the 3x3x3 of I3D factorised into 1x3x3 + 3x1x1."""

    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample=None, se=None, t_stride=1
    ):
        super().__init__()
        if se is not None:
            raise ValueError("squeeze-excitation is defined for I3D blocks only")
        width = planes
        self.conv1 = conv3d(inplanes, width, (1, 1, 1))
        self.bn1 = nn.BatchNorm3d(width)
        self.conv2 = conv3d(width, width, (1, 3, 3), stride)
        self.bn2 = nn.BatchNorm3d(width)
        self.conv2_t = conv3d(width, width, (3, 1, 1), t_stride=t_stride)
        self.bn2_t = nn.BatchNorm3d(width)
        self.conv3 = conv3d(width, planes * self.expansion, (1, 1, 1))
        self.bn3 = nn.BatchNorm3d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.relu(self.bn2_t(self.conv2_t(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


BLOCKS = {
    ("i3d", "basic"): BasicBlock3d,
    ("i3d", "bottleneck"): Bottleneck3d,
    ("s3d", "basic"): BasicBlock2Plus1d,
    ("s3d", "bottleneck"): Bottleneck2Plus1d,
}


class VideoResNet3d(nn.Module):
    """ResNet with 3D convolutions over ``(B, C, T, H, W)`` clips.

    Args:
        depth: 18, 34, 50 or 101.
        variant: "i3d" or "s3d".
        num_classes: classifier size.
        dropout: dropout before the classifier.
        temporal_pooling: halve time at ``layer2``, ``layer3``, ``layer4`` (see module doc).
        se: factory ``channels -> module`` for a squeeze-excitation on every residual branch.
        layout: "reference" or "paper" (module doc).
    """

    def __init__(
        self,
        depth: int,
        variant: str,
        num_classes: int,
        dropout: float = 0.5,
        temporal_pooling: bool = False,
        se: Callable[[int], nn.Module] | None = None,
        layout: str = "reference",
    ) -> None:
        super().__init__()
        kind, layers = RESNET_LAYOUTS[depth]
        block = BLOCKS[(variant, kind)]
        reference = layout == "reference"
        self.per_step_head = reference
        pool = temporal_pooling and not reference
        t_stride = 2 if temporal_pooling and reference else 1
        self.inplanes = 64
        self.conv1 = nn.Conv3d(3, 64, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.layer1 = self._make_layer(block, STAGE_PLANES[0], layers[0], 1, se)
        self.tpool1 = temporal_max_pool3d() if pool else nn.Identity()
        self.layer2 = self._make_layer(block, STAGE_PLANES[1], layers[1], 2, se, t_stride)
        self.tpool2 = temporal_max_pool3d() if pool else nn.Identity()
        self.layer3 = self._make_layer(block, STAGE_PLANES[2], layers[2], 2, se, t_stride)
        self.tpool3 = temporal_max_pool3d() if pool else nn.Identity()
        self.layer4 = self._make_layer(block, STAGE_PLANES[3], layers[3], 2, se, t_stride)
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self.num_features = 512 * block.expansion

        init_conv_bn(self, nn.Conv3d, nn.BatchNorm3d)
        if reference:
            init_linear_small(self.fc)

    def _make_layer(
        self, block, planes: int, blocks: int, stride: int, se, t_stride: int = 1
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
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.tpool1(self.layer1(x))
        x = self.tpool2(self.layer2(x))
        x = self.tpool3(self.layer3(x))
        return self.layer4(x)

    def features(self, x: Tensor) -> Tensor:
        return self.avgpool(self.feature_map(x)).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 5:
            raise ValueError(f"expected a (B, C, T, H, W) clip tensor, got shape {tuple(x.shape)}")
        return clip_logits(self.feature_map(x), self.dropout, self.fc, self.per_step_head)
