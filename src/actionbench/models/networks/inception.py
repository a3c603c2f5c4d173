"""2D InceptionV1 (torchvision ``googlenet``, no auxiliary heads) for video: TSN, TAM, "Conv.".

Frames are folded into the batch like the 2D ResNets. Temporal modules follow the stem
convolutions and every inception module, as in the reference implementation (section E: "we
add TAM modules after every inception module"; the three stem slots are what makes the
"Conv." variant 17.2M parameters in Table 10, see docs/models.md). Temporal pooling goes with
the last three of the five spatial poolings: ``maxpool2``, ``maxpool3`` and ``maxpool4``.

Module names are torchvision's, so a torchvision GoogLeNet state dict loads directly (its
``aux1``/``aux2`` heads are reported as unexpected keys and ignored).
"""

from __future__ import annotations

import importlib

from torch import Tensor, nn

from actionbench.models.networks.pooling import TemporalMaxPool2d, stage_frames
from actionbench.models.networks.resnet2d import fold_time
from actionbench.models.temporal.modules import TemporalFactory, make_slots
from actionbench.models.weights.init import init_temporal_conv_default_per_tap
from actionbench.models.weights.normalization import input_normalization

# torchvision.models.googlenet is shadowed by the builder function of the same name
_tv_googlenet = importlib.import_module("torchvision.models.googlenet")
BasicConv2d = _tv_googlenet.BasicConv2d
Inception = _tv_googlenet.Inception

# (name, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj) - torchvision's table
INCEPTION_CFG: tuple[tuple, ...] = (
    ("inception3a", 192, 64, 96, 128, 16, 32, 32),
    ("inception3b", 256, 128, 128, 192, 32, 96, 64),
    ("inception4a", 480, 192, 96, 208, 16, 48, 64),
    ("inception4b", 512, 160, 112, 224, 24, 64, 64),
    ("inception4c", 512, 128, 128, 256, 24, 64, 64),
    ("inception4d", 512, 112, 144, 288, 32, 64, 64),
    ("inception4e", 528, 256, 160, 320, 32, 128, 128),
    ("inception5a", 832, 256, 160, 320, 32, 128, 128),
    ("inception5b", 832, 384, 192, 384, 48, 128, 128),
)


def inception_out_channels(cfg: tuple) -> int:
    _, _, c1, _, c3, _, c5, pp = cfg
    return c1 + c3 + c5 + pp


# Layers followed by a temporal slot, with their output channels and the number of temporal
# poolings that precede them (0: full T, 1: after maxpool2, 2: after maxpool3, 3: after maxpool4).
TEMPORAL_SLOTS: tuple[tuple[str, int, int], ...] = (
    ("conv1", 64, 0),
    ("conv2", 64, 0),
    ("conv3", 192, 0),
    *((cfg[0], inception_out_channels(cfg), 1) for cfg in INCEPTION_CFG[:2]),
    *((cfg[0], inception_out_channels(cfg), 2) for cfg in INCEPTION_CFG[2:7]),
    *((cfg[0], inception_out_channels(cfg), 3) for cfg in INCEPTION_CFG[7:]),
)


class VideoInceptionV1(nn.Module):
    """Frame-wise GoogLeNet over a clip with optional temporal modules and temporal pooling.

    Args mirror :class:`actionbench.models.networks.resnet2d.VideoResNet2d`. Temporal modules live in
    ``self.temporal`` keyed by the layer they follow (``temporal.inception3a.weight``).
    ``layout="reference"`` keeps PyTorch's default initialisation everywhere, as the reference
    code does (its GoogLeNet defines an init method but never calls it); ``"paper"`` uses
    torchvision's GoogLeNet initialisation (truncated normal, std 0.01) for convs and the
    classifier. The network itself is the same in both layouts.
    """

    # GoogLeNet's ImageNet weights expect inputs scaled to [-1, 1] (torchvision's
    # transform_input); the reference normalises inception inputs with mean = std = 0.5.
    input_mean, input_std = input_normalization("inceptionv1")

    def __init__(
        self,
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
        self.num_frames = num_frames
        frames = self.stage_frames = stage_frames(num_frames, temporal_pooling)
        self.out_frames = frames[-1]

        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.tpool2 = TemporalMaxPool2d(frames[0]) if temporal_pooling else nn.Identity()
        for cfg in INCEPTION_CFG[:2]:
            setattr(self, cfg[0], Inception(*cfg[1:]))
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.tpool3 = TemporalMaxPool2d(frames[1]) if temporal_pooling else nn.Identity()
        for cfg in INCEPTION_CFG[2:7]:
            setattr(self, cfg[0], Inception(*cfg[1:]))
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.tpool4 = TemporalMaxPool2d(frames[2]) if temporal_pooling else nn.Identity()
        for cfg in INCEPTION_CFG[7:]:
            setattr(self, cfg[0], Inception(*cfg[1:]))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)
        self.num_features = 1024

        specs = [(c, frames[n_pooled]) for _, c, n_pooled in TEMPORAL_SLOTS]
        modules = make_slots(temporal, specs, locations)
        self.temporal = nn.ModuleDict(
            {
                name: m
                for (name, _, _), m in zip(TEMPORAL_SLOTS, modules, strict=True)
                if m is not None
            }
        )

        if layout == "reference":
            init_temporal_conv_default_per_tap(self)
            return
        for m in self.modules():  # torchvision's GoogLeNet initialisation
            if isinstance(m, nn.Conv2d | nn.Linear):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _stage(self, name: str, x: Tensor) -> Tensor:
        x = getattr(self, name)(x)
        if name in self.temporal:
            x = self.temporal[name](x)
        return x

    def features(self, x: Tensor) -> Tensor:
        """Folded frames ``(B*T, 3, H, W)`` -> pooled features ``(B*T', 1024)``."""
        x = self.maxpool1(self._stage("conv1", x))
        x = self._stage("conv3", self._stage("conv2", x))
        x = self.tpool2(self.maxpool2(x))
        x = self._stage("inception3b", self._stage("inception3a", x))
        x = self.tpool3(self.maxpool3(x))
        for name in ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e"):
            x = self._stage(name, x)
        x = self.tpool4(self.maxpool4(x))
        x = self._stage("inception5b", self._stage("inception5a", x))
        return self.avgpool(x).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        x = fold_time(x, self.num_frames)
        logits = self.fc(self.dropout(self.features(x)))
        return logits.view(b, -1, logits.shape[-1]).mean(1)
