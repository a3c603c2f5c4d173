"""Classifier head of the 3D networks, with the dropout placement of either layout.

``paper`` (section E, today's behaviour): average the feature map over time and space, then
dropout and the classifier once per clip. ``reference`` (IBM/action-recognition-pytorch):
average over space only, apply dropout and the classifier to every remaining time step, then
average the logits over time. In evaluation the two are the same function (the classifier is
linear); in training the reference draws an independent dropout mask per time step.
"""

from __future__ import annotations

from torch import Tensor, nn


def clip_logits(features: Tensor, dropout: nn.Module, fc: nn.Module, per_step: bool) -> Tensor:
    """``(B, C, T, H, W)`` feature map -> ``(B, num_classes)`` logits."""
    if per_step:
        steps = features.mean(dim=(3, 4)).transpose(1, 2)  # (B, T, C)
        return fc(dropout(steps)).mean(dim=1)
    return fc(dropout(features.mean(dim=(2, 3, 4))))
