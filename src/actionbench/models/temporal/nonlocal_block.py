"""Non-local blocks (Wang et al., CVPR 2018) for the paper's NLN baseline (Table 5).

NLN = TSN-ResNet50 plus non-local blocks inserted after residual blocks: the paper says "3 NLN
modules and 2 NLN modules at stage 2 and stage 3 of TSN-ResNet50, respectively, as in [70]"
(stage 2 = ``layer2``, stage 3 = ``layer3``). The block is the embedded-Gaussian space-time
version with a C/2 bottleneck, 1/sqrt(C/2) scaling and a zero-initialised BN on its output so
it starts as the identity, as in Wang et al. It attends over all T*H*W positions of a clip,
so in the folded 2D network it regroups the frames of each clip.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn


class NonLocalBlock(nn.Module):
    """Space-time non-local block on a folded ``(B*T, C, H, W)`` tensor."""

    def __init__(self, channels: int, num_frames: int, inner_channels: int | None = None) -> None:
        super().__init__()
        inner = inner_channels or channels // 2
        self.num_frames = num_frames
        self.inner = inner
        self.theta = nn.Conv2d(channels, inner, kernel_size=1)
        self.phi = nn.Conv2d(channels, inner, kernel_size=1)
        self.g = nn.Conv2d(channels, inner, kernel_size=1)
        self.out = nn.Conv2d(inner, channels, kernel_size=1)
        self.bn = nn.BatchNorm2d(channels)
        for conv in (self.theta, self.phi, self.g, self.out):
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.zeros_(conv.bias)
        nn.init.zeros_(self.bn.weight)  # identity at initialisation
        nn.init.zeros_(self.bn.bias)

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        t = self.num_frames
        b, hw, ci = n // t, h * w, self.inner

        def positions_last(y: Tensor) -> Tensor:  # (B*T, Ci, H, W) -> (B, Ci, T*H*W)
            return y.view(b, t, ci, hw).transpose(1, 2).reshape(b, ci, t * hw)

        theta = positions_last(self.theta(x))
        phi = positions_last(self.phi(x))
        g = positions_last(self.g(x))
        affinity = torch.matmul(theta.transpose(1, 2), phi) * ci**-0.5  # (B, THW, THW)
        attention = affinity.softmax(dim=-1)
        y = torch.matmul(g, attention.transpose(1, 2))  # (B, Ci, THW)
        y = y.view(b, ci, t, hw).transpose(1, 2).reshape(n, ci, h, w)
        return x + self.bn(self.out(y))


def nonlocal_positions(num_blocks: int, count: int) -> list[int]:
    """Blocks followed by a non-local block: every other block counting back from the last
    (Wang et al.: res3 blocks 1, 3; res4 blocks 1, 3, 5), then the skipped ones, last first."""
    if count > num_blocks:
        raise ValueError(
            f"cannot place {count} non-local blocks after {num_blocks} residual blocks"
        )
    order = list(range(num_blocks - 1, -1, -2)) + list(range(num_blocks - 2, -1, -2))
    return sorted(order[:count])


def with_nonlocal(
    layer: nn.Sequential, count: int, channels: int, num_frames: int
) -> nn.Sequential:
    """A copy of ``layer`` with ``count`` non-local blocks inserted; residual block names
    (and so pretrained keys) are unchanged, new ones are ``nonlocal<i>`` after block i."""
    positions = set(nonlocal_positions(len(layer), count))
    children: OrderedDict[str, nn.Module] = OrderedDict()
    for name, block in layer.named_children():
        children[name] = block
        if int(name) in positions:
            children[f"nonlocal{name}"] = NonLocalBlock(channels, num_frames)
    return nn.Sequential(children)
