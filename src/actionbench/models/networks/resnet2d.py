"""2D ResNets for video (TSN, TAM, TSM, "Conv.", NLN): frames folded into the batch.

Reads like torchvision's ``resnet.py`` and reuses its ``BasicBlock``/``Bottleneck`` (so module
and state-dict key names are torchvision's and ImageNet checkpoints load as they are). The only
addition to a block is an optional temporal module applied to the input of the residual branch
(TAM paper; TSM's "residual shift"), handed in by the builder.

Time handling (paper, Table 1 and section E): the clip ``(B, C, T, H, W)`` becomes ``B*T``
images; optional max temporal pooling sits with the last three spatial downsamplings (before
``layer2``, ``layer3``, ``layer4``); logits are averaged over the remaining time steps.
"""

from __future__ import annotations

from torch import Tensor, nn
from torchvision.models import resnet as tv_resnet

from actionbench.models.networks.pooling import TemporalMaxPool2d, stage_frames
from actionbench.models.temporal.modules import TemporalFactory, make_slots, temporal_then_conv
from actionbench.models.weights.init import init_conv_bn, init_temporal_kaiming_fan_out

# depth -> (2D block class, blocks per stage)
RESNET_LAYOUTS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
}
STAGE_PLANES = (64, 128, 256, 512)


class TemporalSlot:
    """Gives a torchvision block an optional temporal module, ``temporal``, registered after the
    block's own layers (so the state-dict keys start as torchvision's)."""

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        temporal: nn.Module | None = None,
    ) -> None:
        super().__init__(inplanes, planes, stride, downsample)
        self.temporal = temporal


class TemporalBasicBlock(TemporalSlot, tv_resnet.BasicBlock):
    """torchvision BasicBlock with an optional temporal module at the residual branch input."""

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(temporal_then_conv(self.temporal, self.conv1, x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class TemporalBottleneck(TemporalSlot, tv_resnet.Bottleneck):
    """torchvision Bottleneck with an optional temporal module at the residual branch input."""

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(temporal_then_conv(self.temporal, self.conv1, x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


class VideoResNet2d(nn.Module):
    """Frame-wise ResNet over a clip; temporal modules (if any) exchange information in time.

    Args:
        depth: 18, 34, 50 or 101.
        num_frames: frames per clip (T); fixed because folded tensors do not carry it.
        num_classes: size of the classifier.
        dropout: dropout before the classifier.
        temporal: factory ``(channels, frames) -> module`` for the residual-branch inputs,
            or None (TSN).
        locations: which blocks get a temporal module (see ``temporal.select_locations``).
        temporal_pooling: add max temporal pooling before ``layer2``, ``layer3``, ``layer4``.
        layout: "reference" initialises the temporal modules like every conv (Kaiming normal,
            fan_out), as the reference's ResNet init loop does; "paper" keeps their own
            initialisation. The network itself is the same in both layouts.
    """

    def __init__(
        self,
        depth: int,
        *,
        num_frames: int,
        num_classes: int,
        dropout: float,
        temporal: TemporalFactory | None = None,
        locations: str = "all",
        temporal_pooling: bool = False,
        layout: str = "reference",
    ) -> None:
        super().__init__()
        kind, layers = RESNET_LAYOUTS[depth]
        block = TemporalBasicBlock if kind == "basic" else TemporalBottleneck
        self.num_frames = num_frames
        frames = self.stage_frames = stage_frames(num_frames, temporal_pooling)
        self.out_frames = frames[-1]

        # (C_in, T) of every residual block, in network order, for the temporal slots
        specs: list[tuple[int, int]] = []
        inplanes = 64
        for stage, n_blocks in enumerate(layers):
            for i in range(n_blocks):
                specs.append((inplanes, frames[stage]))
                if i == 0:
                    inplanes = STAGE_PLANES[stage] * block.expansion
        slots = iter(make_slots(temporal, specs, locations))

        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0], 1, slots)
        self.tpool1 = TemporalMaxPool2d(frames[0]) if temporal_pooling else nn.Identity()
        self.layer2 = self._make_layer(block, 128, layers[1], 2, slots)
        self.tpool2 = TemporalMaxPool2d(frames[1]) if temporal_pooling else nn.Identity()
        self.layer3 = self._make_layer(block, 256, layers[2], 2, slots)
        self.tpool3 = TemporalMaxPool2d(frames[2]) if temporal_pooling else nn.Identity()
        self.layer4 = self._make_layer(block, 512, layers[3], 2, slots)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self.num_features = 512 * block.expansion

        init_conv_bn(self, nn.Conv2d, nn.BatchNorm2d)
        if layout == "reference":
            init_temporal_kaiming_fan_out(self)

    def _make_layer(self, block, planes: int, blocks: int, stride: int, slots) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                tv_resnet.conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample, temporal=next(slots))]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, temporal=next(slots)))
        return nn.Sequential(*layers)

    def features(self, x: Tensor) -> Tensor:
        """Folded frames ``(B*T, 3, H, W)`` -> pooled features ``(B*T', C)``."""
        return self.avgpool(resnet_trunk(self, x)).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        x = fold_time(x, self.num_frames)
        logits = self.fc(self.dropout(self.features(x)))
        return logits.view(b, -1, logits.shape[-1]).mean(1)


def resnet_trunk(net: nn.Module, x: Tensor) -> Tensor:
    """The stem, then the four stages with the temporal pools between them: how a 2D and a 3D
    ResNet run alike (their layers have the same names)."""
    x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    x = net.tpool1(net.layer1(x))
    x = net.tpool2(net.layer2(x))
    x = net.tpool3(net.layer3(x))
    return net.layer4(x)


def fold_time(x: Tensor, num_frames: int) -> Tensor:
    """``(B, C, T, H, W)`` -> contiguous ``(B*T, C, H, W)`` with the frames of a clip adjacent."""
    if x.dim() != 5:
        raise ValueError(f"expected a (B, C, T, H, W) clip tensor, got shape {tuple(x.shape)}")
    b, c, t, h, w = x.shape
    if t != num_frames:
        raise ValueError(f"model was built for {num_frames} frames, got a clip of {t}")
    return x.transpose(1, 2).reshape(b * t, c, h, w)
