"""SlowFast-ResNet50 8x8 (Feichtenhofer et al.), the paper's state-of-the-art reference.

Configuration of PySlowFast's ``SLOWFAST_8x8_R50``: speed ratio alpha = 4 (the slow pathway
sees every 4th of the input frames, the fast pathway all of them; "8x8" = 8 slow frames from
32 input frames), channel ratio beta = 1/8, time-strided 7x1x1 lateral convolutions with 2*beta
channels after the stem and res2-res4, temporal kernels: slow stem 1, fast stem 5, slow res2-3
1 and res4-5 3 (on the first 1x1 of each bottleneck), fast 3 everywhere. No temporal pooling
(the model keeps time; ``-tp`` is not defined for it). Head: both pathways globally pooled,
concatenated (2048 + 256), dropout, linear.

``num_frames`` of the builder is the number of input frames (fast pathway); Table 8's model
takes 32. Slow-pathway module names mirror torchvision's ResNet under ``slow.`` so that the
2D ResNet50 weights that fit (all but the convolutions widened by the lateral connections)
can be inflated into it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from actionbench.models.weights.init import init_conv_bn

ALPHA = 4
BETA_INV = 8
FUSION_RATIO = 2
FUSION_KERNEL = 7
STAGE_BLOCKS = (3, 4, 6, 3)  # ResNet50
SLOW_TEMPORAL = (1, 1, 3, 3)  # res2..res5
FAST_TEMPORAL = (3, 3, 3, 3)


class Bottleneck(nn.Module):
    """Bottleneck with a ``kt x 1 x 1`` first convolution (PySlowFast's ``temp_kernel_size``)."""

    def __init__(self, inplanes: int, width: int, out: int, stride: int, kt: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(inplanes, width, (kt, 1, 1), padding=(kt // 2, 0, 0), bias=False)
        self.bn1 = nn.BatchNorm3d(width)
        self.conv2 = nn.Conv3d(
            width, width, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False
        )
        self.bn2 = nn.BatchNorm3d(width)
        self.conv3 = nn.Conv3d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(
                nn.Conv3d(inplanes, out, 1, stride=(1, stride, stride), bias=False),
                nn.BatchNorm3d(out),
            )

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


class Pathway(nn.Module):
    """One ResNet50 pathway; ``lateral[i]`` extra input channels enter stage i (res2..res5)."""

    def __init__(
        self, width: int, stem_t: int, temporal: tuple[int, ...], lateral: tuple[int, ...]
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(3, width, (stem_t, 7, 7), (1, 2, 2), (stem_t // 2, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        inplanes = width
        for i, blocks in enumerate(STAGE_BLOCKS):
            inner = width * 2**i
            out = inner * 4
            layer = []
            for j in range(blocks):
                cin = inplanes + lateral[i] if j == 0 else out
                stride = 2 if (j == 0 and i > 0) else 1
                layer.append(Bottleneck(cin, inner, out, stride, temporal[i]))
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer))
            inplanes = out
        self.out_channels = inplanes

    def stem(self, x: Tensor) -> Tensor:
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))


class Lateral(nn.Module):
    """Fast -> slow fusion: time-strided conv (alpha), BN, ReLU."""

    def __init__(self, fast_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(
            fast_channels,
            fast_channels * FUSION_RATIO,
            (FUSION_KERNEL, 1, 1),
            stride=(ALPHA, 1, 1),
            padding=(FUSION_KERNEL // 2, 0, 0),
            bias=False,
        )
        self.bn = nn.BatchNorm3d(fast_channels * FUSION_RATIO)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, fast: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv(fast)))


class SlowFast(nn.Module):
    """SlowFast-R50 over ``(B, 3, T, H, W)``; T must be a multiple of alpha (4)."""

    def __init__(self, *, num_classes: int, dropout: float) -> None:
        super().__init__()
        slow_width, fast_width = 64, 64 // BETA_INV
        # fast channels at the four fusion points: after the stem, res2, res3, res4
        fast_channels = (fast_width, *(fast_width * 4 * 2**i for i in range(3)))
        lateral = tuple(FUSION_RATIO * c for c in fast_channels)
        self.slow = Pathway(slow_width, 1, SLOW_TEMPORAL, lateral)
        self.fast = Pathway(fast_width, 5, FAST_TEMPORAL, (0, 0, 0, 0))
        self.fuse = nn.ModuleList([Lateral(c) for c in fast_channels])
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout)
        self.num_features = self.slow.out_channels + self.fast.out_channels
        self.fc = nn.Linear(self.num_features, num_classes)

        init_conv_bn(self, nn.Conv3d, nn.BatchNorm3d)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 5:
            raise ValueError(f"expected a (B, C, T, H, W) clip tensor, got shape {tuple(x.shape)}")
        t = x.shape[2]
        if t % ALPHA:
            raise ValueError(f"SlowFast needs a multiple of {ALPHA} frames, got {t}")
        index = torch.linspace(0, t - 1, t // ALPHA, device=x.device).long()
        slow = self.slow.stem(x.index_select(2, index))
        fast = self.fast.stem(x)
        for i in range(4):
            slow = torch.cat([slow, self.fuse[i](fast)], dim=1)
            slow = getattr(self.slow, f"layer{i + 1}")(slow)
            fast = getattr(self.fast, f"layer{i + 1}")(fast)
        feats = torch.cat([self.avgpool(slow).flatten(1), self.avgpool(fast).flatten(1)], 1)
        return self.fc(self.dropout(feats))

    @staticmethod
    def pretrained_key(key: str) -> str | None:
        """2D ResNet key that initialises ``key`` (the slow pathway only)."""
        return key[len("slow.") :] if key.startswith("slow.") else None
