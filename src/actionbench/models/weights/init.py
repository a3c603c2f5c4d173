"""Weight initialisations: torchvision's for every backbone, the reference code's where it differs.

Convolutions get Kaiming-normal (fan_out, ReLU) weights and batch norms start as the identity,
exactly as torchvision initialises its models, so a model trained from scratch starts where a
torchvision one would. The caller names the conv/norm types it owns (2D or 3D) so that
temporal modules with their own initialisation are left as they are. The ``layout="reference"``
models add what the reference code (IBM/action-recognition-pytorch) does on top (below).
"""

from __future__ import annotations

import math

from torch import nn


def init_conv_bn(model: nn.Module, conv: type[nn.Module], norm: type[nn.Module]) -> None:
    for m in model.modules():
        if isinstance(m, conv):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, norm):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)


def init_linear_small(fc: nn.Linear, std: float = 0.001) -> None:
    """The reference code's 3D classifier: N(0, 0.001) weights, zero bias."""
    nn.init.normal_(fc.weight, 0.0, std)
    nn.init.constant_(fc.bias, 0)


def init_temporal_kaiming_fan_out(model: nn.Module) -> None:
    """TAM / dense temporal convs initialised as the reference's ResNet init loop does.

    The reference builds each of TAM's three taps as a 1x1 ``nn.Conv2d`` (depthwise for TAM,
    C -> C for the dense variant), so its ResNet loop gives them Kaiming-normal weights with
    fan_out = C (std sqrt(2 / C)) like every other conv. Ours keep the taps in one tensor.
    """
    from actionbench.models.temporal.modules import TAM, TemporalConv

    for m in model.modules():
        if isinstance(m, TAM | TemporalConv):
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / m.channels))


def init_temporal_conv_default_per_tap(model: nn.Module) -> None:
    """Dense temporal convs as three default-initialised C -> C ``nn.Conv2d`` taps.

    The reference's 2D InceptionV1 never runs an init loop, so every conv keeps PyTorch's
    default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C per tap (TAM's depthwise taps,
    fan_in = 1, get U(-1, 1): TAM's own default).
    """
    from actionbench.models.temporal.modules import TemporalConv

    for m in model.modules():
        if isinstance(m, TemporalConv):
            bound = 1.0 / math.sqrt(m.channels)
            nn.init.uniform_(m.weight, -bound, bound)
