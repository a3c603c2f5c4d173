"""Seeding, determinism switches and RNG snapshots that survive ``torch.load(weights_only=True)``.

Why snapshots are tensors and plain numbers: checkpoints are loaded with ``weights_only=True``
(no arbitrary unpickling), which refuses numpy arrays and arbitrary objects. Resuming mid-epoch
must restore every generator a training step touches (dropout, augmentation in the main
process), so all of them are captured here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)


def derive_seed(*parts: int) -> int:
    """A stable 32-bit seed from integers (seed, epoch, rank, index...), independent of PYTHONHASHSEED."""
    digest = hashlib.blake2b(repr(tuple(int(p) for p in parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % (2**32)


def seed_all(seed: int) -> None:
    """Seed python, numpy and torch (CPU and every CUDA device) from one integer."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def configure_determinism(deterministic: bool) -> None:
    """Deterministic kernels when asked (exact resume/DDP checks), cuDNN autotuning otherwise.

    ``warn_only`` because a few CUDA kernels (e.g. some 3D pooling backward passes) have no
    deterministic implementation; PyTorch then warns instead of failing a week-long job.
    """
    if deterministic:
        # cuBLAS needs this before the first CUDA call to be deterministic.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic


def capture_rng() -> dict[str, Any]:
    """Every RNG state of this process as tensors and plain numbers."""
    py_version, py_state, py_gauss = random.getstate()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "python": {
            "version": int(py_version),
            "state": torch.tensor(py_state, dtype=torch.int64),
            "gauss": py_gauss,
        },
        "numpy": {
            "kind": str(np_kind),
            "keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
            "pos": int(np_pos),
            "has_gauss": int(np_has_gauss),
            "gauss": float(np_gauss),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng`."""
    py = state["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    npst = state["numpy"]
    np.random.set_state(
        (
            npst["kind"],
            npst["keys"].numpy().astype(np.uint32),
            npst["pos"],
            npst["has_gauss"],
            npst["gauss"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])
