"""Checkpoints of the reference code (IBM/action-recognition-pytorch) as actionbench weights.

The paper's released models were trained with the reference code, whose ``models/`` files name
parameters a little differently from ours. Everything maps one to one except:

* TAM: the reference keeps each of the three taps as its own 1x1 ``nn.Conv2d``:
  ``<block>.tam.{prev,curr,next}_se.fc1.weight``, ``(C, 1, 1, 1)`` (depthwise). We keep one
  ``<block>.temporal.weight`` of shape ``(C, 3)``, column k weighing frame t + k - 1 (prev,
  curr, next). The same module with ``dw_conv=False`` ("allc", ``(C, C, 1, 1)`` taps) is our
  dense temporal conv ``tconv``, ``(C, C, 3)``. On InceptionV1 the slots are ``tam1``,
  ``tam2``, ``tam3``, ``tam3a`` ... ``tam5b``; ours are ``temporal.conv1`` ...
  ``temporal.inception5b``.
* S3D-InceptionV1's temporal convs carry a bias (``*.conv_t.bias``). The ``reference`` layout
  has it too and copies it; a model without it (``paper`` layout) absorbs it into the BN that
  follows: BN(conv(x) + b) with running mean mu equals BN(conv(x)) with running mean mu - b, in
  evaluation and, since the batch mean also absorbs it, in training.
* A DataParallel ``module.`` prefix is dropped; a ``{"state_dict": ...}`` training checkpoint
  (the reference's ``save_checkpoint`` format) is unwrapped.

Anything else (TAM with other than 3 blending frames, depthwise S3D temporal convs, a key or a
shape without a counterpart in the target model) is refused with the key named: a checkpoint
either converts completely or not at all.
"""

from __future__ import annotations

import collections
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from actionbench.errors import ModelError
from actionbench.models.temporal.modules import TAM, TemporalConv

log = logging.getLogger(__name__)

TAPS = ("prev", "curr", "next")  # column 0, 1, 2 of our TAM / temporal-conv weight

# reference InceptionV1 TAM slot -> the layer our slot follows
INCEPTION_TAM_SLOTS = {
    "tam1": "conv1",
    "tam2": "conv2",
    "tam3": "conv3",
    "tam3a": "inception3a",
    "tam3b": "inception3b",
    "tam4a": "inception4a",
    "tam4b": "inception4b",
    "tam4c": "inception4c",
    "tam4d": "inception4d",
    "tam4e": "inception4e",
    "tam5a": "inception5a",
    "tam5b": "inception5b",
}

_TAP_KEY = re.compile(r"^(?P<slot>.+)\.(?P<tap>prev|curr|next)_se\.fc1\.weight$")


def read_reference_checkpoint(path: str | Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The state dict of a reference checkpoint file, and what else it says (``arch``, epoch).

    Loaded with ``weights_only=True``; ``collections.Counter`` (MultiStepLR's milestones in the
    saved scheduler state) is the one extra type allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"reference checkpoint {path} does not exist")
    try:
        with torch.serialization.safe_globals([collections.Counter]):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # unpickling errors come in many types
        raise ModelError(
            f"reference checkpoint {path} cannot be loaded with torch.load(weights_only=True): "
            f"{err}"
        ) from err
    meta: dict[str, Any] = {}
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        meta = {k: obj[k] for k in ("arch", "epoch", "best_top1") if k in obj}
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj:
        raise ModelError(f"reference checkpoint {path} holds no state dict")
    bad = [k for k, v in obj.items() if not isinstance(v, Tensor)]
    if bad:
        raise ModelError(f"reference checkpoint {path}: key {bad[0]!r} is not a tensor")
    return strip_module_prefix(obj), meta


def strip_module_prefix(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Drop DataParallel's ``module.`` prefix when every key has it."""
    if all(k.startswith("module.") for k in state):
        return {k[len("module.") :]: v for k, v in state.items()}
    return dict(state)


def _our_slot(ref_slot: str, model: nn.Module) -> str:
    """``layer1.0.tam`` -> ``layer1.0.temporal``; ``tam3a`` -> ``temporal.inception3a``."""
    if ref_slot in INCEPTION_TAM_SLOTS:
        return f"temporal.{INCEPTION_TAM_SLOTS[ref_slot]}"
    if ref_slot.endswith(".tam"):
        return ref_slot[: -len(".tam")] + ".temporal"
    raise ModelError(f"reference key {ref_slot!r}: not a TAM slot this converter knows")


def convert_state_dict(ref_state: Mapping[str, Tensor], model: nn.Module) -> dict[str, Tensor]:
    """Map a reference state dict onto ``model``'s keys; every key on both sides must be used.

    Raises :class:`ModelError` naming the first reference key that has no counterpart (or the
    wrong shape), or the model keys the checkpoint does not provide.
    """
    ref_state = strip_module_prefix(ref_state)
    target = model.state_dict()
    modules = dict(model.named_modules())
    out: dict[str, Tensor] = {}
    taps: dict[str, dict[str, Tensor]] = {}
    tap_keys: dict[str, str] = {}  # our slot -> a reference key of it, for messages
    biases: dict[str, Tensor] = {}

    for key, value in ref_state.items():
        m = _TAP_KEY.match(key)
        if m:
            slot = _our_slot(m["slot"], model)
            taps.setdefault(slot, {})[m["tap"]] = value
            tap_keys.setdefault(slot, key)
            continue
        if ".blending_layers." in key:
            raise ModelError(
                f"reference key {key!r}: TAM with other than 3 blending frames has no "
                "counterpart in actionbench (TAM is prev/curr/next)"
            )
        if key.endswith("conv_t.bias") and key not in target:
            biases[key[: -len("conv_t.bias")]] = value
            continue
        if key not in target:
            raise ModelError(
                f"reference key {key!r} has no counterpart in {_name(model)} (is the "
                "architecture, backbone or layout the checkpoint's?)"
            )
        _check_shape(key, value, target[key])
        out[key] = value.detach().clone()

    for slot, parts in taps.items():
        key = f"{slot}.weight"
        module = modules.get(slot)
        if not isinstance(module, TAM | TemporalConv) or key not in target:
            raise ModelError(
                f"reference key {tap_keys[slot]!r}: {_name(model)} has no temporal module at "
                f"{slot!r}"
            )
        missing = [t for t in TAPS if t not in parts]
        if missing:
            raise ModelError(f"reference TAM slot {slot!r} lacks the {missing} tap(s)")
        c = module.channels
        want = (c, 1, 1, 1) if isinstance(module, TAM) else (c, c, 1, 1)
        for tap in TAPS:
            if tuple(parts[tap].shape) != want:
                raise ModelError(
                    f"reference key {slot}.{tap}_se.fc1.weight: shape {tuple(parts[tap].shape)}, "
                    f"{_name(model)}'s {type(module).__name__} needs {want}"
                )
        columns = [parts[t].reshape((c,) if isinstance(module, TAM) else (c, c)) for t in TAPS]
        out[key] = torch.stack(columns, dim=-1).contiguous()

    for prefix, bias in biases.items():
        mean_key = f"{prefix}bn_t.running_mean"
        if mean_key not in out:
            raise ModelError(
                f"reference key {prefix}conv_t.bias: no BN ({mean_key}) to absorb it into"
            )
        _check_shape(f"{prefix}conv_t.bias", bias, out[mean_key])
        out[mean_key] = out[mean_key] - bias.to(out[mean_key].dtype)

    missing = [k for k in target if k not in out]
    if missing:
        raise ModelError(
            f"the reference checkpoint lacks {len(missing)} tensor(s) of {_name(model)}, "
            f"e.g. {missing[:3]}"
        )
    return out


def _check_shape(key: str, value: Tensor, want: Tensor) -> None:
    if value.shape != want.shape:
        raise ModelError(
            f"reference key {key!r}: shape {tuple(value.shape)}, the model needs "
            f"{tuple(want.shape)}"
        )


def _name(model: nn.Module) -> str:
    cfg = getattr(model, "config", None)
    return cfg["name"] if isinstance(cfg, Mapping) and "name" in cfg else type(model).__name__


# reference network names (``model.network_name``, inside the saved ``arch`` string)
_ARCH_NAME = re.compile(
    r"(?P<net>TAM-b3-sum(?P<allc>-allc)?-(?:resnet-\d+|inception-v1)"
    r"|i3d-resnet-\d+|s3d-resnet-\d+|i3d_v2|s3d|resnet-\d+|inception-v1)"
    r"(?P<ts>-ts(?:-max|-avg)?)?-f(?P<frames>\d+)"
)


def infer_model_args(arch_string: str) -> dict[str, Any]:
    """``arch``/``backbone``/``temporal_pooling``/``num_frames`` from a reference run name.

    E.g. ``kinetics400-rgb-TAM-b3-sum-resnet-50-f32-cosine-bs48-e50`` -> TAM-ResNet50, 32
    frames, no temporal pooling (the reference's ``-ts`` suffix means temporal striding on).
    """
    m = _ARCH_NAME.search(arch_string)
    if not m:
        raise ModelError(
            f"cannot tell the model from the checkpoint's arch {arch_string!r}; pass --arch, "
            "--backbone, --frames (and --temporal-pooling) explicitly"
        )
    net = m["net"]
    depth = re.search(r"resnet-(\d+)", net)
    backbone = f"resnet{depth[1]}" if depth else "inceptionv1"
    if net.startswith("TAM"):
        arch = "tconv" if m["allc"] else "tam"
    elif net.startswith("i3d"):
        arch = "i3d"
    elif net.startswith("s3d"):
        arch = "s3d"
    else:
        arch = "tsn"
    return {
        "arch": arch,
        "backbone": backbone,
        "temporal_pooling": bool(m["ts"]),
        "num_frames": int(m["frames"]),
    }


def num_classes_of(ref_state: Mapping[str, Tensor]) -> int:
    fc = strip_module_prefix(ref_state).get("fc.weight")
    if fc is None or fc.dim() != 2:
        raise ModelError("the reference checkpoint has no 2D fc.weight to read the class count")
    return int(fc.shape[0])
