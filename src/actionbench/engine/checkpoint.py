"""Checkpoint files: atomic writes, ``weights_only`` loads, and model-weight initialisation.

Layout under ``<output_dir>``:

* ``checkpoints/last.pt``: full training state, rewritten atomically every epoch and on
  pre-emption; a rerun resumes from it. It holds no scheduler state: the lr is a pure function
  of the position (epoch, step) in training (see ``schedules``), recomputed on resume.
* ``final.pt``: the model ``state_dict`` alone, written once training completes; the next
  frame count of the progressive schedule (8 -> 16 -> 32 -> 64) initialises from it.

Atomic = write a temp file in the same directory, fsync, ``os.replace``: a crash (or ``kill -9``)
during a save leaves the previous file intact, and a reader never sees half a checkpoint.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from actionbench.errors import ModelError, TrainingError
from actionbench.weight_files import misfit, read_weights

if TYPE_CHECKING:
    from actionbench.models.pretrained import LoadReport

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
IMAGENET_CLASSES = 1000  # a torchvision ImageNet file's classifier (named in refusals)


def last_path(output_dir: str | Path) -> Path:
    return Path(output_dir) / "checkpoints" / "last.pt"


def final_path(output_dir: str | Path) -> Path:
    return Path(output_dir) / "final.pt"


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some network file systems refuse
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once (temp file in the same dir + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_save(obj: Any, path: str | Path) -> bytes:
    """``torch.save`` that never leaves a truncated file at ``path``; returns the bytes written
    (so a caller can digest them without reading the file back)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    data = buffer.getvalue()
    atomic_write_bytes(path, data)
    return data


def load(path: str | Path, error: type[Exception] = TrainingError) -> Any:
    """``torch.load(weights_only=True)`` onto the CPU; errors name the file and what to do."""
    return read_weights(path, "checkpoint", error)


def unwrap(model: nn.Module) -> nn.Module:
    """The bare model inside DistributedDataParallel (so state dict keys have no ``module.``)."""
    return (
        model.module if hasattr(model, "module") and isinstance(model.module, nn.Module) else model
    )


def model_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """CPU, contiguous copy of the weights: portable between devices and memory formats."""
    return {
        k: v.detach().to("cpu", copy=True).contiguous()
        for k, v in unwrap(model).state_dict().items()
    }


def state_dict_from(obj: Any, path: str | Path) -> Mapping[str, torch.Tensor]:
    """Accept either a bare state dict (``final.pt``) or a training checkpoint (``last.pt``)."""
    if isinstance(obj, Mapping) and "model" in obj and isinstance(obj["model"], Mapping):
        obj = obj["model"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelError(f"checkpoint {path} holds no model state dict (expected name -> tensor)")
    return obj


def head_parameter_names(model: nn.Module) -> set[str]:
    """Names of the classifier's parameters: those of the last ``nn.Linear`` in the model."""
    last = None
    for name, module in unwrap(model).named_modules():
        if isinstance(module, nn.Linear):
            last = name
    if last is None:
        raise ModelError(
            "init.new_head is true but the model has no nn.Linear classifier to replace"
        )
    prefix = f"{last}." if last else ""
    return {f"{prefix}{p}" for p, _ in unwrap(model).get_submodule(last).named_parameters()}


def _classifier_keys(model: nn.Module) -> set[str]:
    try:
        return head_parameter_names(model)
    except ModelError:  # no classifier to replace
        return set()


def _classes(state: Mapping[str, torch.Tensor]) -> int | None:
    """Rows of a torchvision-named classifier (``fc``), if the file has one."""
    head = state.get("fc.weight")
    return int(head.shape[0]) if head is not None and head.dim() == 2 else None


def load_model_weights(model: nn.Module, path: str | Path, new_head: bool = False) -> LoadReport:
    """Initialise ``model`` from another run's weights (progressive stage or transfer, D.3).

    Same architecture is expected: every tensor must exist with the same shape, or the file is
    refused in one line (:func:`~actionbench.weight_files.misfit`). With ``new_head``
    the classifier is left freshly initialised (the target has other classes).
    """
    from actionbench.models.backbone_keys import identify
    from actionbench.models.pretrained import LoadReport

    state = dict(state_dict_from(load(path, error=ModelError), path))
    imagenet = identify(state) if _classes(state) == IMAGENET_CLASSES else None
    target = unwrap(model).state_dict()
    skip = head_parameter_names(model) if new_head else set()
    for name in skip:
        state.pop(name, None)
    missing = [k for k in target if k not in state and k not in skip]
    unexpected = [k for k in state if k not in target]
    mismatched = [
        (k, tuple(state[k].shape), tuple(target[k].shape))
        for k in state
        if k in target and state[k].shape != target[k].shape
    ]
    if missing or unexpected or mismatched:
        spec = getattr(unwrap(model), "spec", None)
        expected = f"{spec.name} (backbone {spec.backbone})" if spec is not None else "the model"
        problems = {*missing, *unexpected, *(k for k, _, _ in mismatched)}
        hint = ""
        if imagenet:
            hint = f"the file holds {imagenet} ImageNet weights: use init.kind imagenet"
        elif not new_head and problems <= _classifier_keys(model):
            hint = "set init.new_head: true to replace the classifier for transfer"
        raise ModelError(
            misfit(
                f"checkpoint {path} does not fit {expected}",
                mismatched=mismatched,
                unexpected=unexpected,
                missing=missing,
                hint=hint,
            )
        )
    unwrap(model).load_state_dict(state, strict=not new_head)
    report = LoadReport(
        source=str(path),
        kind="checkpoint",
        loaded=[k for k in target if k not in skip],
        new=[k for k in target if k in skip],
    )
    log.info("%s", report.summary())
    return report
