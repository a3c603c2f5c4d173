"""The model registry: architecture names are the public API, ``build_model`` the only door.

Adding an architecture means writing one constructor with the common keyword signature and
decorating it with :func:`register_arch` (see ``archs.py``); nothing else changes. The spec
kept with each name says which backbones and temporal-pooling settings it supports, so an
unsupported request fails before anything is built, with a message naming what is supported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from torch import nn

from actionbench.errors import ModelError
from actionbench.models.temporal import TAM_LOCATIONS

log = logging.getLogger(__name__)

BACKBONES: tuple[str, ...] = ("inceptionv1", "resnet18", "resnet50", "resnet101")
INFLATION_MODES: tuple[str, ...] = ("copy", "mean")
# "reference": pools, strides, initialisation and dropout placement of the reference code
# (IBM/action-recognition-pytorch), which produced the paper's numbers; "paper": section E's text.
LAYOUTS: tuple[str, ...] = ("reference", "paper")


class Constructor(Protocol):
    def __call__(
        self,
        *,
        backbone: str,
        num_frames: int,
        num_classes: int,
        temporal_pooling: bool,
        tam_locations: str,
        dropout: float,
        layout: str,
    ) -> nn.Module: ...


@dataclass(frozen=True)
class ArchSpec:
    """What one registered architecture supports.

    ``is_3d``: keeps time as a tensor axis and is initialised from 2D weights by inflation.
    ``placeable``: has 2D temporal modules whose locations can be chosen (Table 6).
    ``note``: why some backbones / settings are missing, shown in error messages.
    """

    name: str
    constructor: Constructor
    backbones: tuple[str, ...]
    temporal_pooling: tuple[bool, ...]
    is_3d: bool
    placeable: bool
    summary: str
    note: str = ""


_REGISTRY: dict[str, ArchSpec] = {}


def register_arch(
    name: str,
    *,
    backbones: tuple[str, ...] = BACKBONES,
    temporal_pooling: tuple[bool, ...] = (False, True),
    is_3d: bool,
    placeable: bool = False,
    summary: str,
    note: str = "",
) -> Callable[[Constructor], Constructor]:
    """Decorator registering ``constructor`` under ``name``."""

    def decorate(constructor: Constructor) -> Constructor:
        if name in _REGISTRY:
            raise ValueError(f"architecture {name!r} is already registered")
        unknown = set(backbones) - set(BACKBONES)
        if unknown:
            raise ValueError(f"{name}: unknown backbones {sorted(unknown)}")
        _REGISTRY[name] = ArchSpec(
            name,
            constructor,
            tuple(backbones),
            tuple(temporal_pooling),
            is_3d,
            placeable,
            summary,
            note,
        )
        return constructor

    return decorate


def list_archs() -> list[str]:
    return list(_REGISTRY)


def get_arch(arch: str) -> ArchSpec:
    try:
        return _REGISTRY[arch]
    except KeyError:
        raise ModelError(
            f"unknown architecture {arch!r}; registered: {', '.join(_REGISTRY)}"
        ) from None


def list_models() -> list[tuple[str, str, bool]]:
    """Every supported ``(arch, backbone, temporal_pooling)`` combination, registry order."""
    return [
        (spec.name, backbone, tp)
        for spec in _REGISTRY.values()
        for backbone in spec.backbones
        for tp in spec.temporal_pooling
    ]


def model_name(arch: str, backbone: str, temporal_pooling: bool) -> str:
    """The paper's naming, ``module-backbone[-tp]`` (e.g. ``i3d-resnet18-tp``)."""
    return f"{arch}-{backbone}{'-tp' if temporal_pooling else ''}"


def check_combination(
    arch: str,
    backbone: str,
    num_frames: int,
    num_classes: int,
    temporal_pooling: bool = False,
    tam_locations: str = "all",
    dropout: float = 0.5,
    inflation: str = "copy",
    layout: str = "reference",
) -> ArchSpec:
    """Validate a request without building anything; returns the architecture's spec."""
    spec = get_arch(arch)
    if backbone not in BACKBONES:
        raise ModelError(f"unknown backbone {backbone!r}; known: {', '.join(BACKBONES)}")
    if backbone not in spec.backbones:
        raise ModelError(
            f"unsupported combination arch={arch!r} backbone={backbone!r}: {arch} supports "
            f"backbones {', '.join(spec.backbones)}" + (f" ({spec.note})" if spec.note else "")
        )
    if bool(temporal_pooling) not in spec.temporal_pooling:
        raise ModelError(
            f"unsupported combination arch={arch!r} backbone={backbone!r} "
            f"temporal_pooling={bool(temporal_pooling)}: {arch} supports temporal_pooling in "
            f"{list(spec.temporal_pooling)}" + (f" ({spec.note})" if spec.note else "")
        )
    if tam_locations not in TAM_LOCATIONS:
        raise ModelError(f"tam_locations must be one of {TAM_LOCATIONS}, got {tam_locations!r}")
    if tam_locations != "all" and not spec.placeable:
        placeable = [s.name for s in _REGISTRY.values() if s.placeable]
        raise ModelError(
            f"tam_locations={tam_locations!r} needs an architecture with 2D temporal modules "
            f"({', '.join(placeable)}); {arch!r} has none to place"
        )
    if not isinstance(num_frames, int) or num_frames < 1:
        raise ModelError(f"num_frames must be a positive integer, got {num_frames!r}")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ModelError(f"num_classes must be a positive integer, got {num_classes!r}")
    if not 0.0 <= dropout < 1.0:
        raise ModelError(f"dropout must be in [0, 1), got {dropout!r}")
    if inflation not in INFLATION_MODES:
        raise ModelError(f"inflation must be one of {INFLATION_MODES}, got {inflation!r}")
    if layout not in LAYOUTS:
        raise ModelError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    return spec


def build_model(
    arch: str,
    backbone: str,
    num_frames: int,
    num_classes: int,
    temporal_pooling: bool = False,
    tam_locations: str = "all",
    dropout: float = 0.5,
    pretrained: str | os.PathLike | None = None,
    inflation: str = "copy",
    layout: str = "reference",
) -> nn.Module:
    """Build ``arch`` on ``backbone``: a module mapping ``(B, 3, T, H, W)`` to ``(B, classes)``.

    ``pretrained`` is a local torchvision-format 2D state dict (never downloaded); 3D models
    inflate it (``inflation="copy"`` repeats kernels along time as the paper does, ``"mean"``
    also divides by the temporal size so a clip of identical frames reproduces the 2D model).
    ``layout`` selects the reference code's pools, strides, initialisation and dropout
    placement (``"reference"``, which reproduces the published numbers) or section E's text
    (``"paper"``); docs/models.md lists the differences.
    The :class:`~actionbench.models.pretrained.LoadReport` is kept as ``model.load_report``.
    The resolved arguments are kept as ``model.config`` (plain values, for checkpoints).
    """
    spec = check_combination(
        arch,
        backbone,
        num_frames,
        num_classes,
        temporal_pooling,
        tam_locations,
        dropout,
        inflation,
        layout,
    )
    model = spec.constructor(
        backbone=backbone,
        num_frames=num_frames,
        num_classes=num_classes,
        temporal_pooling=bool(temporal_pooling),
        tam_locations=tam_locations,
        dropout=float(dropout),
        layout=layout,
    )
    model.config = {
        "arch": arch,
        "backbone": backbone,
        "num_frames": num_frames,
        "num_classes": num_classes,
        "temporal_pooling": bool(temporal_pooling),
        "tam_locations": tam_locations,
        "dropout": float(dropout),
        "inflation": inflation,
        "layout": layout,
        "name": model_name(arch, backbone, bool(temporal_pooling)),
    }
    model.load_report = None
    if pretrained is not None:
        from actionbench.models.pretrained import load_pretrained

        model.load_report = load_pretrained(model, pretrained, inflation)
    log.debug("built %s (%d frames, %d classes)", model.config["name"], num_frames, num_classes)
    return model
