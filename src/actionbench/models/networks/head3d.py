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


class ClipNet3d(nn.Module):
    """What every 3D network shares on top of its own ``feature_map``: pooled features and the
    clip logits of :func:`clip_logits`. Subclasses build ``avgpool``, ``dropout``, ``fc`` and set
    ``per_step_head`` (the layout's dropout placement)."""

    def feature_map(self, x: Tensor) -> Tensor:
        """``(B, 3, T, H, W)`` -> the last stage's ``(B, C, T', H', W')`` map."""
        raise NotImplementedError

    def features(self, x: Tensor) -> Tensor:
        return self.avgpool(self.feature_map(x)).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 5:
            raise ValueError(f"expected a (B, C, T, H, W) clip tensor, got shape {tuple(x.shape)}")
        return clip_logits(self.feature_map(x), self.dropout, self.fc, self.per_step_head)
