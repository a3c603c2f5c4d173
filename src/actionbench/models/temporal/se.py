"""Squeeze-and-excitation for 3D feature maps (Hu et al.), used by I3D-SE-ResNet (Figure 7).

The paper adds SE to I3D-ResNet50 to show how far a stronger 3D model goes; it sits where
SE-ResNet puts it: on the residual branch output, before the identity is added.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class SqueezeExcitation3d(nn.Module):
    """Channel gates from globally pooled (T, H, W) statistics; reduction 16 as in SE-ResNet."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Conv3d(channels, hidden, kernel_size=1)
        self.fc2 = nn.Conv3d(hidden, channels, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        s = F.adaptive_avg_pool3d(x, 1)
        s = self.fc2(F.relu(self.fc1(s), inplace=True))
        return x * s.sigmoid()
