"""Which implementation the temporal modules (TAM, TSM, dense temporal conv) run: the CPU-fused
custom ops of :mod:`temporal_ops` or the batched kernels of :mod:`temporal_batched`.

Why a switch: the fused ops loop over frames, which is what a CPU wants (they beat the batched
form there, see reports/benchmarks/accelerator_paths.md) and what a GPU does not. ``auto`` (the
default) picks by the device of the activation: fused on ``cpu`` and on ``meta`` (shape-only
FLOP counting, where the custom ops carry their FLOP formulas), batched on every other device
(cuda, xpu, mps ...). ``fused`` or ``batched`` force one path everywhere, so that the GPU path
can be tested on a CPU:

* environment: ``ACTIONBENCH_TEMPORAL_PATH=batched`` (read at call time),
* code: ``set_temporal_path("batched")`` or ``with temporal_path("batched"): ...``
  (both take precedence over the environment).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

PATHS = ("auto", "fused", "batched")
ENV_VAR = "ACTIONBENCH_TEMPORAL_PATH"
_FUSED_DEVICES = ("cpu", "meta")

_override: str | None = None


def _check(path: str, where: str) -> str:
    if path not in PATHS:
        raise ValueError(f"{where} must be one of {', '.join(PATHS)}; got {path!r}")
    return path


def configured_path() -> str:
    """The forced path (``set_temporal_path``, else the environment), or ``auto``."""
    if _override is not None:
        return _override
    return _check(os.environ.get(ENV_VAR, "auto") or "auto", f"environment variable {ENV_VAR}")


def set_temporal_path(path: str | None) -> None:
    """Force ``fused`` or ``batched`` (``auto`` or None: back to the device rule / env)."""
    global _override
    _override = None if path in (None, "auto") else _check(path, "temporal path")


@contextlib.contextmanager
def temporal_path(path: str) -> Iterator[None]:
    """Run a block with ``path`` forced; restores the previous setting."""
    global _override
    previous = _override
    set_temporal_path(path)
    try:
        yield
    finally:
        _override = previous


def use_batched(device: torch.device) -> bool:
    """Whether activations on ``device`` go through the batched kernels."""
    path = configured_path()
    if path == "auto":
        return device.type not in _FUSED_DEVICES
    return path == "batched"
