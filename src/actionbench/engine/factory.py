"""Builds models and datasets from the run config: the engine's only door to models/ and data/.

Kept in one small module so tests can substitute tiny stand-ins (monkeypatching
``build_model`` / ``build_dataset`` here) and so the mapping config key -> constructor argument
is written once for training and evaluation alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn
from torch.utils.data import Dataset

from actionbench.engine import runcfg


def build_model(cfg: Mapping[str, Any], pretrained: str | None = None) -> nn.Module:
    """``actionbench.models.build_model`` with every argument taken from the run config."""
    from actionbench.models import build_model as registry_build

    return registry_build(
        runcfg.get(cfg, "arch"),
        runcfg.get(cfg, "backbone"),
        num_frames=runcfg.get_int(cfg, "frames", minimum=1),
        num_classes=runcfg.get_int(cfg, "num_classes", minimum=1),
        temporal_pooling=bool(runcfg.get(cfg, "temporal_pooling")),
        tam_locations=runcfg.get(cfg, "tam_locations"),
        dropout=runcfg.get_float(cfg, "optim.dropout"),
        pretrained=pretrained,
        inflation=runcfg.get(cfg, "init.inflation"),
        layout=cfg.get("layout", "reference"),
    )


def build_dataset(
    cfg: Mapping[str, Any], split: str, train: bool, num_clips: int = 1, num_crops: int = 1
) -> Dataset:
    """The clip dataset of ``data.<split>_list``: training augmentation or test-time views."""
    from actionbench.data.dataset import VideoClipDataset

    return VideoClipDataset(
        runcfg.get(cfg, f"data.{split}_list"),
        runcfg.get_int(cfg, "frames", minimum=1),
        sampling=runcfg.get_choice(cfg, "sampling", ("uniform", "dense")),
        dense_stride=runcfg.get_int(cfg, "dense_stride", minimum=1),
        train=train,
        num_clips=num_clips,
        num_crops=num_crops,
        input_size=runcfg.get_int(cfg, "data.input_size", minimum=1),
        scale_size=runcfg.get_int(cfg, "data.scale_size", minimum=1),
        flip=bool(runcfg.get(cfg, "data.flip")) if train else False,
        root=runcfg.get(cfg, "data.root"),
    )
