"""Initialise a video model from a local 2D (torchvision-format) ImageNet state dict.

Section E: 2D models (TSN, TAM, ...) load the 2D weights directly, 3D models (I3D, S3D, ...)
inflate them. Nothing is downloaded: the weights are a file the user provides (clusters are
often offline). Every key ends up in exactly one bucket of the returned :class:`LoadReport`,
so a silently skipped layer cannot go unnoticed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from actionbench.errors import ModelError
from actionbench.models.weights.inflate import can_inflate, inflate_kernel
from actionbench.spec import INFLATION_MODES

log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    """Where each key went.

    loaded: model keys copied unchanged from the source.
    inflated: model keys filled from a 2D kernel given a time axis.
    new: model keys left at their initialisation (absent from the source - e.g. TAM,
        non-local, SE, temporal convs - or present with an incompatible shape).
    mismatched: the subset of ``new`` found in the source with another shape, as
        ``(key, model_shape, source_shape)`` (e.g. ``fc.weight`` for another class count).
    unexpected: source keys no model key used (e.g. GoogLeNet's ``aux1``/``aux2`` heads).
    """

    source: str
    inflation: str
    loaded: list[str] = field(default_factory=list)
    inflated: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"pretrained {self.source}: {len(self.loaded)} loaded, {len(self.inflated)} "
            f"inflated ({self.inflation}), {len(self.new)} new, {len(self.unexpected)} unexpected"
        ]
        if self.mismatched:
            parts.append(
                "shape mismatch (left at init): "
                + ", ".join(f"{k} {tuple(m)} vs {tuple(s)}" for k, m, s in self.mismatched)
            )
        new_only = [k for k in self.new if k not in {m[0] for m in self.mismatched}]
        if new_only:
            parts.append("new: " + _abbreviate(new_only))
        if self.unexpected:
            parts.append("unexpected: " + _abbreviate(self.unexpected))
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


def _abbreviate(keys: list[str], limit: int = 12) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", ... ({len(keys) - limit} more)" if len(keys) > limit else "")


def read_state_dict(path: str | os.PathLike) -> dict[str, Tensor]:
    """Load a state dict file safely (``weights_only``); unwrap ``{"state_dict": ...}``-style
    containers and a DataParallel ``module.`` prefix."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"pretrained weights not found: {p} (expected a local state-dict file)")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle errors, truncated files, non-tensor payloads
        raise ModelError(f"cannot read pretrained weights {p}: {err}") from err
    for container in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(container), dict):
            obj = obj[container]
    if not isinstance(obj, dict) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise ModelError(f"{p} does not hold a state dict (a mapping of names to tensors)")
    if obj and all(k.startswith("module.") for k in obj):
        obj = {k[len("module.") :]: v for k, v in obj.items()}
    return obj


def load_pretrained(
    model: nn.Module,
    state_dict_or_path: dict[str, Tensor] | str | os.PathLike,
    inflation: str = "copy",
) -> LoadReport:
    """Copy or inflate matching 2D weights into ``model`` in place and report every key.

    A model may define ``pretrained_key(key) -> str | None`` to say which source key feeds
    one of its keys (SlowFast maps ``slow.*`` onto the 2D ResNet); by default names match.
    """
    if inflation not in INFLATION_MODES:
        raise ModelError(f"inflation must be one of {INFLATION_MODES}, got {inflation!r}")
    if isinstance(state_dict_or_path, dict):
        source, name = state_dict_or_path, "<state dict>"
    else:
        source, name = read_state_dict(state_dict_or_path), str(state_dict_or_path)
    key_map = getattr(model, "pretrained_key", None)
    report = LoadReport(source=name, inflation=inflation)
    target = model.state_dict()
    updates: dict[str, Tensor] = {}
    used: set[str] = set()
    for key, value in target.items():
        src_key = key_map(key) if key_map is not None else key
        if src_key is None or src_key not in source:
            report.new.append(key)
            continue
        src = source[src_key]
        used.add(src_key)
        if tuple(src.shape) == tuple(value.shape):
            updates[key] = src.to(value.dtype)
            report.loaded.append(key)
        elif can_inflate(tuple(src.shape), tuple(value.shape)):
            updates[key] = inflate_kernel(src, value.shape[2], inflation).to(value.dtype)
            report.inflated.append(key)
        else:
            report.new.append(key)
            report.mismatched.append((key, tuple(value.shape), tuple(src.shape)))
    report.unexpected = [k for k in source if k not in used]
    if not updates:
        raise ModelError(
            f"no key of {name} matches the model; expected a torchvision-format 2D state dict "
            f"of the same backbone (first model keys: {', '.join(list(target)[:3])})"
        )
    model.load_state_dict(updates, strict=False)
    log.info("%s", report.summary())
    return report
