"""Builds models and datasets from the run config: the engine's one way to a network or a clip
dataset (evaluation also reads the validation list's table with ``data.lists``).

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
from actionbench.spec import SAMPLINGS, ModelSpec


def model_spec(cfg: Mapping[str, Any]) -> ModelSpec:
    """The network a run config describes (each key read, and checked, here only)."""
    return ModelSpec(
        arch=runcfg.get(cfg, "arch"),
        backbone=runcfg.get(cfg, "backbone"),
        num_frames=runcfg.get_int(cfg, "frames", minimum=1),
        num_classes=runcfg.get_int(cfg, "num_classes", minimum=1),
        temporal_pooling=bool(runcfg.get(cfg, "temporal_pooling")),
        tam_locations=runcfg.get(cfg, "tam_locations"),
        dropout=runcfg.get_float(cfg, "model.dropout"),
        inflation=runcfg.get(cfg, "init.inflation"),
        layout=runcfg.get(cfg, "layout"),
    )


def build_model(cfg: Mapping[str, Any], pretrained: str | None = None) -> nn.Module:
    """``actionbench.models.build_model`` of the run config's :func:`model_spec`."""
    from actionbench.models import build_model as registry_build

    return registry_build(model_spec(cfg), pretrained=pretrained)


def build_dataset(
    cfg: Mapping[str, Any], split: str, train: bool, num_clips: int = 1, num_crops: int = 1
) -> Dataset:
    """The clip dataset of ``data.<split>_list``: training augmentation or test-time views.

    The run's ``layout`` picks the data protocol (sampling, test crops); the model's backbone
    picks the input normalisation the engine applies on the device (``device_transform``).
    """
    from actionbench.data.dataset import VideoClipDataset
    from actionbench.models.weights.normalization import input_normalization

    layout = runcfg.get(cfg, "layout")
    input_size = runcfg.get_int(cfg, "data.input_size", minimum=1)
    scale_size = runcfg.get_int(cfg, "data.scale_size", minimum=1)
    protocol = data_protocol(cfg)
    return VideoClipDataset(
        runcfg.get(cfg, f"data.{split}_list"),
        runcfg.get_int(cfg, "frames", minimum=1),
        sampling=runcfg.get_choice(cfg, "sampling", SAMPLINGS),
        dense_stride=runcfg.get_int(cfg, "dense_stride", minimum=1),
        train=train,
        num_clips=num_clips,
        num_crops=num_crops,
        input_size=input_size,
        scale_size=scale_size,
        flip=bool(runcfg.get(cfg, "data.flip")),
        root=runcfg.get(cfg, "data.root"),
        on_bad_frame=runcfg.get(cfg, "data.on_bad_frame"),
        protocol=layout,
        test_crop_size=protocol["test_crop_size"],
        min_frames=protocol["min_frames"],
        eval_min_frames=protocol["eval_min_frames"],
        normalization=input_normalization(runcfg.get(cfg, "backbone")),
        # storage: video (docs/data.md, section 9); absent from frames-mode configs, which
        # stay as they were
        storage=runcfg.get(cfg, "data.storage"),
        decoder=runcfg.get(cfg, "data.decoder"),
        short_side=runcfg.get(cfg, "data.short_side"),
    )


def data_protocol(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """``data.test_crop_size``, ``data.min_frames`` and ``data.eval_min_frames`` of a run
    config; a config built by hand may omit them and gets its layout's defaults for a dataset of
    no known format (:func:`actionbench.data.protocol.data_protocol`: every video is kept, test
    crops of ``scale_size`` under the reference layout, of ``input_size`` under the paper's)."""
    from actionbench.data.protocol import data_protocol as layout_defaults

    return layout_defaults(
        runcfg.get(cfg, "layout"),
        "",
        runcfg.get(cfg, "data"),
        runcfg.get_int(cfg, "data.input_size", minimum=1),
        runcfg.get_int(cfg, "data.scale_size", minimum=1),
    )
