"""Weight files a user hands over: reading them safely, and saying in one line why one is refused.

Why one module: ImageNet weights (``train.pretrained.<backbone>``), a previous stage's or another
run's ``final.pt`` (``init.path``) and the training state ``last.pt`` all arrive as files written
by ``torch.save`` and all fail in the same few ways: the file is empty, cut short, not a PyTorch
file, holds pickled objects instead of tensors, or holds tensors of another network. The reasons
here name what to do about each; torch's own messages (its advice to load with
``weights_only=False``, i.e. to run code from the file) are never passed on. The "does not fit"
message is written by :func:`misfit` alone, for ImageNet and checkpoint weights alike.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from actionbench.errors import ModelError

ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default (zip) format
PICKLE_MAGIC = b"\x80"  # torch.save's legacy format starts with a pickle protocol opcode
SHOWN_KEYS = 3  # keys named per kind of problem in a one-line message

Shape = tuple[int, ...]


def read_weights(
    path: str | os.PathLike, what: str = "weights", error: type[Exception] = ModelError
) -> Any:
    """``torch.load(path, weights_only=True)`` onto the CPU, or ``error`` with a reason to act on.

    ``what`` names the file's role in messages ("pretrained weights", "checkpoint").
    """
    p = Path(path)
    if not p.is_file():
        raise error(f"{what} {p} does not exist")
    if p.stat().st_size == 0:
        raise error(f"cannot read {what} {p}: file is empty (0 bytes)")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as err:  # every failure gets a reason below
        # ``from None``: torch's text advises weights_only=False, which we never want followed
        raise error(f"cannot read {what} {p}: {unreadable_reason(p, err)}") from None


def unreadable_reason(path: Path, err: BaseException) -> str:
    """Why ``torch.load(weights_only=True)`` failed on ``path``, in words a user can act on."""
    foreign = _non_tensor_globals(path, err)
    if foreign:
        return (
            f"pickled objects that are not tensors ({_first(foreign)}{_more(foreign)}; a full "
            "model object?): save model.state_dict() instead"
        )
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(ZIP_MAGIC):
        if zipfile.is_zipfile(path):
            return f"not a PyTorch file: a zip archive ({size} bytes) that torch.save did not write"
        return (
            f"truncated: a PyTorch file cut short at {size} bytes (interrupted download or "
            "copy?); save or copy it again"
        )
    if head.startswith(PICKLE_MAGIC) and isinstance(err, EOFError | RuntimeError):
        return (
            f"truncated: a PyTorch file (legacy format) cut short at {size} bytes; save or copy "
            "it again"
        )
    return (
        f"not a PyTorch file ({size} bytes starting with {head!r}): expected a file written by "
        "torch.save"
    )


def _non_tensor_globals(path: Path, err: BaseException) -> list[str]:
    """Classes/functions the file would have to import (what weights_only refuses), the
    model's own before torch's building blocks."""
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # legacy or broken files: read torch's message
        found = re.findall(r"Unsupported global: GLOBAL ([\w.]+)", str(err))
    return sorted(set(found), key=lambda name: (name.startswith("torch."), name))


def misfit(
    subject: str,
    *,
    mismatched: Sequence[tuple[str, Shape, Shape]] = (),
    unexpected: Sequence[str] = (),
    missing: Sequence[str] = (),
    hint: str = "",
) -> str:
    """One line: ``subject``, then the first keys of each kind of problem, then ``hint``.

    ``subject`` names the file and what it was expected to fit ("weights/r50.pth does not fit
    backbone resnet18 (tsn-resnet18)"); ``mismatched`` holds ``(key, shape in the file,
    expected shape)``.
    """
    parts = []
    if mismatched:
        shown = "; ".join(
            f"{k}: {tuple(found)} in the file, {tuple(want)} expected"
            for k, found, want in mismatched[:SHOWN_KEYS]
        )
        parts.append(
            f"{_count(mismatched, 'tensor')} of another shape ({shown}{_more(mismatched)})"
        )
    if unexpected:
        parts.append(
            f"{_count(unexpected, 'unexpected key')} ({_first(unexpected)}{_more(unexpected)})"
        )
    if missing:
        parts.append(f"{_count(missing, 'missing key')} ({_first(missing)}{_more(missing)})")
    return f"{subject}: " + ", ".join(parts) + (f"; {hint}" if hint else "")


def _count(items: Sequence, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _first(keys: Sequence[str]) -> str:
    return ", ".join(keys[:SHOWN_KEYS])


def _more(items: Sequence) -> str:
    return ", ..." if len(items) > SHOWN_KEYS else ""
