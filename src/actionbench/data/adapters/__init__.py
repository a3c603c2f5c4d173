"""Dataset adapters: one module per official annotation format, one registry to find them.

Every adapter is ``adapter(raw_dir, annotations) -> IndexResult``: it turns the publisher's files
into one index table (video_id, video_path, split, label_name + the format's extra columns) and an
``index_failures`` table (file, row, video_id, reason) of rows it skipped. ``annotations`` holds
format-specific relative file names and options; each module's ``DEFAULTS`` are the publisher's
names, and an unknown key is a ConfigError. Those checks are made here, once for every format
(:class:`~actionbench.data.adapters.base.AdapterInputs`); each module's ``build(inputs)`` only
reads its format's files.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

from actionbench.data.adapters import hmdb51, jester, kinetics400, mit, ssv2, synthetic, ucf101
from actionbench.data.adapters.base import (
    CLASS_INDEX_COLUMN,
    FAILURE_COLUMNS,
    INDEX_COLUMNS,
    AdapterInputs,
    IndexResult,
    safe_video_id,
    write_index,
)
from actionbench.errors import ConfigError

Adapter = Callable[[Path, "dict[str, Any] | None"], IndexResult]

# Each format module names itself (FORMAT) and holds its ``build`` and ``DEFAULTS``.
_MODULES = (kinetics400, ssv2, mit, ucf101, hmdb51, jester, synthetic)


def _run(
    module: ModuleType, raw_dir: Path, annotations: dict[str, Any] | None = None
) -> IndexResult:
    """``module``'s adapter: the raw directory and options checked, then its ``build``."""
    return module.build(AdapterInputs.resolve(module.FORMAT, raw_dir, annotations, module.DEFAULTS))


ADAPTERS: dict[str, Adapter] = {module.FORMAT: partial(_run, module) for module in _MODULES}

DEFAULT_ANNOTATIONS: dict[str, dict[str, Any]] = {
    module.FORMAT: module.DEFAULTS for module in _MODULES
}


def get_adapter(fmt: str) -> Adapter:
    """The adapter registered as ``fmt``; ConfigError lists the known formats otherwise."""
    try:
        return ADAPTERS[fmt]
    except KeyError:
        raise ConfigError(
            f"unknown dataset format {fmt!r}; expected one of {sorted(ADAPTERS)}"
        ) from None


def build_index(
    fmt: str, raw_dir: str | Path, annotations: dict[str, Any] | None = None
) -> IndexResult:
    """Run the ``fmt`` adapter over ``raw_dir``."""
    return get_adapter(fmt)(Path(raw_dir), annotations)


__all__ = [
    "ADAPTERS",
    "CLASS_INDEX_COLUMN",
    "DEFAULT_ANNOTATIONS",
    "FAILURE_COLUMNS",
    "INDEX_COLUMNS",
    "IndexResult",
    "build_index",
    "get_adapter",
    "safe_video_id",
    "write_index",
]
