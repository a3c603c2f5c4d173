"""Initialise a video model from a local 2D (torchvision-format) ImageNet state dict, strictly.

Section E: 2D models (TSN, TAM, ...) load the 2D weights directly, 3D models (I3D, S3D, ...)
inflate them. Nothing is downloaded: the weights are a file the user provides (clusters are
often offline). Nothing is skipped quietly either:

* the file must be the model's backbone as torchvision defines it (``backbone_keys``): a tensor
  of another shape, a key the backbone does not have (another depth, another network) or a
  missing backbone key refuses the file, in one line naming it, the backbone expected and the
  first offending keys;
* every backbone tensor must then be loaded or inflated into the model; only model tensors that
  map to no backbone tensor - what the architecture adds - and the classifier (another class
  count) start from their initialisation.

The :class:`LoadReport` puts every model key in one bucket and is recorded with the run
(``train_metrics.json``'s ``init_weights``, MLflow, the report's protocol table).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from torch import Tensor, nn

from actionbench.errors import ModelError
from actionbench.models.backbone_keys import COUNTER_SUFFIX, backbone_keys, identify
from actionbench.models.inflate import can_inflate, inflate_to, widens_inputs
from actionbench.spec import INFLATION_MODES
from actionbench.weight_files import misfit, read_weights

log = logging.getLogger(__name__)

NEW_KEYS_SAMPLE = 10  # new keys named in a run's record


@dataclass
class LoadReport:
    """Where each model key's initial value came from.

    kind: ``imagenet``, ``checkpoint`` or ``scratch``.
    loaded: model keys copied unchanged from the source.
    inflated: model keys filled from a 2D kernel given a time axis (``widened``: the subset
        that also gained zero input channels, SlowFast's lateral inputs).
    new: model keys left at their initialisation: what the architecture adds to the backbone,
        the classifier when the class count differs, everything when training from scratch.
    unused: source keys no model key took (GoogLeNet's aux heads, a replaced classifier).
    absent_counters: BatchNorm ``num_batches_tracked`` counters the file lacks (saved before
        PyTorch 0.4.1): left at 0; they count steps and weigh nothing.
    """

    source: str | None
    kind: str = "imagenet"
    inflation: str | None = None
    loaded: list[str] = field(default_factory=list)
    inflated: list[str] = field(default_factory=list)
    widened: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    absent_counters: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One log line."""
        what = {"imagenet": "pretrained", "checkpoint": "checkpoint"}.get(self.kind, self.kind)
        line = f"{what} {self.source or ''}".rstrip() + f": {len(self.loaded)} loaded, "
        line += f"{len(self.inflated)} inflated"
        if self.inflated and self.inflation:
            line += f" ({self.inflation})"
        line += f", {len(self.new)} new"
        if self.new:
            line += f" ({_abbreviate(self.new)})"
        if self.widened:
            line += f"; zero lateral inputs in {_abbreviate(self.widened)}"
        if self.unused:
            line += f"; unused in the file: {_abbreviate(self.unused)}"
        if self.absent_counters:
            line += f"; {len(self.absent_counters)} BatchNorm counters absent (left at 0)"
        return line

    def to_record(self) -> dict:
        """The counts a run records (``train_metrics.json``'s ``init_weights``)."""
        return {
            "kind": self.kind,
            "source": self.source,
            "inflation": self.inflation,
            "loaded": len(self.loaded),
            "inflated": len(self.inflated),
            "new": len(self.new),
            "new_keys_sample": self.new[:NEW_KEYS_SAMPLE],
            "unused_source_keys": len(self.unused),
        }


def _abbreviate(keys: list[str], limit: int = 6) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", ... ({len(keys) - limit} more)" if len(keys) > limit else "")


def scratch_report(model: nn.Module) -> LoadReport:
    """Every tensor of ``model`` starts from its initialisation."""
    return LoadReport(source=None, kind="scratch", new=list(model.state_dict()))


def read_state_dict(path: str | os.PathLike) -> dict[str, Tensor]:
    """Load a state dict file safely (``weights_only``); unwrap ``{"state_dict": ...}``-style
    containers and a DataParallel ``module.`` prefix."""
    obj = read_weights(path, "pretrained weights")
    for container in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(container), dict):
            obj = obj[container]
    if not isinstance(obj, dict) or not all(isinstance(v, Tensor) for v in obj.values()):
        held = f"a {type(obj).__name__}" if not isinstance(obj, dict) else "non-tensor values"
        raise ModelError(
            f"cannot read pretrained weights {path}: it holds {held}, not a state dict "
            "(a mapping of names to tensors): save model.state_dict()"
        )
    if obj and all(k.startswith("module.") for k in obj):
        obj = {k[len("module.") :]: v for k, v in obj.items()}
    return obj


def load_pretrained(
    model: nn.Module,
    state_dict_or_path: Mapping[str, Tensor] | str | os.PathLike,
    inflation: str = "copy",
    backbone: str | None = None,
) -> LoadReport:
    """Copy or inflate 2D ImageNet weights into ``model`` in place; refuse what does not fit.

    ``backbone`` defaults to the model's spec (models built by ``build_model`` carry it). A
    model may define ``pretrained_key(key) -> str | None`` to say which source key feeds one
    of its keys (SlowFast maps ``slow.*`` onto the 2D ResNet); by default names match.
    """
    if inflation not in INFLATION_MODES:
        raise ModelError(f"inflation must be one of {INFLATION_MODES}, got {inflation!r}")
    spec = getattr(model, "spec", None)
    backbone = backbone or getattr(spec, "backbone", None)
    if backbone is None:
        raise ModelError("load_pretrained needs the model's backbone (pass backbone=...)")
    expected = backbone_keys(backbone)
    if isinstance(state_dict_or_path, Mapping):
        source, name = dict(state_dict_or_path), "<state dict>"
    else:
        source, name = read_state_dict(state_dict_or_path), str(state_dict_or_path)
    target_name = f"backbone {backbone}" + (f" ({spec.name})" if spec is not None else "")
    mismatched, unexpected, missing = expected.problems(source)
    if mismatched or unexpected or missing:
        held = identify(source)
        hint = f"give torchvision {backbone} weights"
        if held:
            hint = f"the file holds {held} weights: {hint}"
        raise ModelError(
            misfit(
                f"pretrained weights {name} do not fit {target_name}",
                mismatched=mismatched,
                unexpected=unexpected,
                missing=missing,
                hint=hint,
            )
        )
    report, updates = _plan(model, source, expected, inflation)
    report.source = name
    model.load_state_dict(updates, strict=False)
    log.info("%s", report.summary())
    return report


def _plan(model, source, expected, inflation) -> tuple[LoadReport, dict[str, Tensor]]:
    """Where each model key comes from; refuses a model that leaves a backbone tensor out."""
    key_map = getattr(model, "pretrained_key", None)
    report = LoadReport(source=None, kind="imagenet", inflation=inflation)
    updates: dict[str, Tensor] = {}
    used: set[str] = set()
    unfit: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    for key, value in model.state_dict().items():
        src_key = key_map(key) if key_map is not None else key
        if src_key is None or src_key not in expected.shapes:
            report.new.append(key)  # added by the architecture
            continue
        if src_key not in source:  # a classifier-less file, or a pre-0.4.1 BatchNorm counter
            if src_key.endswith(COUNTER_SUFFIX):
                report.absent_counters.append(key)
            else:
                report.new.append(key)
            continue
        src, shape = source[src_key], tuple(value.shape)
        if tuple(src.shape) == shape:
            updates[key] = src.to(value.dtype)
            report.loaded.append(key)
        elif can_inflate(tuple(src.shape), shape):
            updates[key] = inflate_to(src, shape, inflation).to(value.dtype)
            report.inflated.append(key)
            if widens_inputs(tuple(src.shape), shape):
                report.widened.append(key)
        elif src_key in expected.classifier:
            report.new.append(key)  # the video classifier has its own class count
            continue
        else:
            unfit.append((f"{key} <- {src_key}", tuple(src.shape), shape))
            continue
        used.add(src_key)
    left_out = [k for k in expected.required if k not in used]
    if unfit or left_out:
        spec = getattr(model, "spec", None)
        raise ModelError(
            misfit(
                f"model {getattr(spec, 'name', type(model).__name__)} does not take every "
                f"tensor of its backbone {expected.name}",
                mismatched=unfit,
                missing=left_out,
                hint="a model whose backbone tensors are renamed or reshaped is a registry bug",
            )
        )
    report.unused = [k for k in source if k not in used]
    return report, updates
