"""torchvision's ResNet initialisation, shared by every backbone built here.

Convolutions get Kaiming-normal (fan_out, ReLU) weights and batch norms start as the identity,
exactly as torchvision initialises its models, so a model trained from scratch starts where a
torchvision one would. The caller names the conv/norm types it owns (2D or 3D) so that
temporal modules with their own initialisation are left as they are.
"""

from __future__ import annotations

from torch import nn


def init_conv_bn(model: nn.Module, conv: type[nn.Module], norm: type[nn.Module]) -> None:
    for m in model.modules():
        if isinstance(m, conv):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, norm):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
