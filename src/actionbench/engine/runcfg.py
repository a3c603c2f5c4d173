"""Typed access to the resolved run config, with errors that name the missing or bad key.

:mod:`actionbench.config` validates params.yaml against the schema and resolves each run's
config with every default applied; this module is the engine's last line of defence for configs
built by hand (tests, ``--config run.json``). Their optional keys get the same values a resolved
config holds: :data:`actionbench.defaults.RUN_CONFIG`, taken from the defaults of params.yaml
(listed in docs/engine.md, "Run-config keys"); a key that moved is still read at its old place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from actionbench import defaults
from actionbench.errors import ConfigError

_MISSING = object()


def get(cfg: Mapping[str, Any], dotted: str, default: Any = _MISSING) -> Any:
    """Value at ``a.b.c`` (``None`` included); when absent, ``default`` if given, else the
    key's old place or its run-config default (:func:`actionbench.defaults.run_value`);
    ConfigError when the key is required."""
    value = defaults.lookup(cfg, dotted)
    if value is not defaults.ABSENT:
        return value
    if default is not _MISSING:
        return default
    try:
        return defaults.run_value(cfg, dotted)
    except KeyError:
        raise ConfigError(f"run config lacks required key '{dotted}'") from None


def get_int(cfg: Mapping[str, Any], dotted: str, minimum: int | None = None) -> int:
    value = get(cfg, dotted)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"run config key '{dotted}' must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"run config key '{dotted}' must be >= {minimum}, got {value}")
    return value


def get_float(cfg: Mapping[str, Any], dotted: str, allow_none: bool = False) -> float | None:
    value = get(cfg, dotted)
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"run config key '{dotted}' must be a finite number, got {value!r}")
    return float(value)


def get_choice(cfg: Mapping[str, Any], dotted: str, choices: tuple[str, ...]) -> str:
    value = get(cfg, dotted)
    if value not in choices:
        raise ConfigError(
            f"run config key '{dotted}' must be one of {', '.join(choices)}; got {value!r}"
        )
    return value


def output_dir(cfg: Mapping[str, Any]) -> Path:
    return Path(get(cfg, "output_dir"))


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically so a reader (DVC, Snakemake, the report) never sees half a file."""
    from actionbench.engine.checkpoint import atomic_write_bytes  # lazy: keeps torch out of imports

    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def load_run_config(path: str | Path) -> dict[str, Any]:
    """Read a resolved run config JSON (``--config``); errors name the file."""
    path = Path(path)
    try:
        cfg = json.loads(path.read_text())
    except FileNotFoundError as err:
        raise ConfigError(f"run config file {path} does not exist") from err
    except json.JSONDecodeError as err:
        raise ConfigError(f"run config file {path} is not valid JSON: {err}") from err
    if not isinstance(cfg, dict):
        raise ConfigError(
            f"run config file {path} must hold a JSON object, got {type(cfg).__name__}"
        )
    return cfg
