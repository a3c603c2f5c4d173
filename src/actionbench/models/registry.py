"""The model registry: architecture names are the public API, ``build_model`` the only door.

Adding an architecture means writing one constructor taking a
:class:`~actionbench.spec.ModelSpec` and decorating it with :func:`register_arch` (see
``archs.py``); its name goes into :data:`actionbench.spec.ARCHS` (the vocabulary the params
schema is checked against). The spec is the one signature: ``build_model`` builds it from its
arguments and hands it, whole, to the constructor. The spec
kept with each name says which backbones and temporal-pooling settings it supports, so an
unsupported request fails before anything is built, with a message naming what is supported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from actionbench.errors import ModelError
from actionbench.spec import ARCHS, BACKBONES, INFLATION_MODES, LAYOUTS, TAM_LOCATIONS, ModelSpec

log = logging.getLogger(__name__)

Constructor = Callable[[ModelSpec], nn.Module]


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
        if name not in ARCHS:
            raise ValueError(f"{name!r} is not in actionbench.spec.ARCHS: add it there first")
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


def check_combination(spec: ModelSpec) -> ArchSpec:
    """Validate a request without building anything; returns the architecture's entry."""
    arch, backbone = spec.arch, spec.backbone
    entry = get_arch(arch)
    if backbone not in BACKBONES:
        raise ModelError(f"unknown backbone {backbone!r}; known: {', '.join(BACKBONES)}")
    if backbone not in entry.backbones:
        raise ModelError(
            f"unsupported combination arch={arch!r} backbone={backbone!r}: {arch} supports "
            f"backbones {', '.join(entry.backbones)}" + (f" ({entry.note})" if entry.note else "")
        )
    if bool(spec.temporal_pooling) not in entry.temporal_pooling:
        raise ModelError(
            f"unsupported combination arch={arch!r} backbone={backbone!r} "
            f"temporal_pooling={bool(spec.temporal_pooling)}: {arch} supports temporal_pooling in "
            f"{list(entry.temporal_pooling)}" + (f" ({entry.note})" if entry.note else "")
        )
    if spec.tam_locations not in TAM_LOCATIONS:
        raise ModelError(
            f"tam_locations must be one of {TAM_LOCATIONS}, got {spec.tam_locations!r}"
        )
    if spec.tam_locations != "all" and not entry.placeable:
        placeable = [s.name for s in _REGISTRY.values() if s.placeable]
        raise ModelError(
            f"tam_locations={spec.tam_locations!r} needs an architecture with 2D temporal "
            f"modules ({', '.join(placeable)}); {arch!r} has none to place"
        )
    if not isinstance(spec.num_frames, int) or spec.num_frames < 1:
        raise ModelError(f"num_frames must be a positive integer, got {spec.num_frames!r}")
    if not isinstance(spec.num_classes, int) or spec.num_classes < 1:
        raise ModelError(f"num_classes must be a positive integer, got {spec.num_classes!r}")
    if not 0.0 <= spec.dropout < 1.0:
        raise ModelError(f"dropout must be in [0, 1), got {spec.dropout!r}")
    if spec.inflation not in INFLATION_MODES:
        raise ModelError(f"inflation must be one of {INFLATION_MODES}, got {spec.inflation!r}")
    if spec.layout not in LAYOUTS:
        raise ModelError(f"layout must be one of {LAYOUTS}, got {spec.layout!r}")
    return entry


def as_spec(*args, **kwargs) -> ModelSpec:
    """A :class:`ModelSpec` from a spec, or from ``ModelSpec``'s own arguments.

    ``as_spec(spec)`` returns it; ``as_spec("tam", "resnet50", 8, 87, dropout=0.5)`` builds one
    (the argument names and defaults are ModelSpec's fields, written nowhere else).
    """
    if len(args) == 1 and not kwargs and isinstance(args[0], ModelSpec):
        return args[0]
    try:
        spec = ModelSpec(*args, **kwargs)
    except TypeError as err:
        raise ModelError(f"bad model arguments: {err}") from None
    # normalise the types a YAML/JSON config may hand over (1 for True, 0 for 0.0)
    return ModelSpec(
        **{
            **spec.__dict__,
            "temporal_pooling": bool(spec.temporal_pooling),
            "dropout": float(spec.dropout),
        }
    )


def build_model(*args, pretrained: str | os.PathLike | None = None, **kwargs) -> nn.Module:
    """Build a model: ``(B, 3, T, H, W)`` clips to ``(B, num_classes)`` logits.

    Takes a :class:`~actionbench.spec.ModelSpec`, or ModelSpec's arguments
    (``build_model("tam", "resnet50", num_frames=8, num_classes=87)``).

    ``pretrained`` is a local torchvision-format 2D state dict (never downloaded); 3D models
    inflate it (``inflation="copy"`` repeats kernels along time as the paper does, ``"mean"``
    also divides by the temporal size so a clip of identical frames reproduces the 2D model).
    The :class:`~actionbench.models.weights.pretrained.LoadReport` is kept as ``model.load_report``,
    the spec as ``model.spec`` and its plain values as ``model.config`` (for checkpoints).
    """
    spec = as_spec(*args, **kwargs)
    entry = check_combination(spec)
    model = entry.constructor(spec)
    model.spec = spec
    model.config = spec.as_dict()
    model.load_report = None
    if pretrained is not None:
        from actionbench.models.weights.pretrained import load_pretrained

        model.load_report = load_pretrained(model, pretrained, spec.inflation)
    log.debug("built %s (%d frames, %d classes)", spec.name, spec.num_frames, spec.num_classes)
    return model
