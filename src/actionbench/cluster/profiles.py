"""What one clip of a model costs, before anything is measured: FLOPs, parameters, activations.

``auto`` sizing needs, for every model of the grid, the multiply-adds of one clip (runtime), the
parameter count (checkpoint disk, the fixed part of GPU memory) and the bytes a training
forward pass keeps for backward (the per-clip part of GPU memory where no benchmark record
exists). All three come from one forward pass on PyTorch's meta device (no memory, no compute):

* ``gmacs``: :func:`actionbench.measure.profiling.profile_model` (the paper's FLOP convention);
* ``saved_bytes``: the float32 tensors autograd saves for backward during a training-mode
  forward pass, each storage counted once, parameters excluded (``saved_tensors_hooks``).

Profiling a large model takes up to a second, and Snakemake plans hundreds of jobs, so results
are kept in a table: ``<records>/profiles.json`` (committed; the shipped grid's models) and
``.snakemake/actionbench/profiles.json`` (this checkout's cache of the others). Classifiers are
profiled with :data:`NUM_CLASSES` outputs: a 2048 x 400 layer is under 1% of any model here.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from actionbench import defaults

log = logging.getLogger(__name__)

NUM_CLASSES = 400
TABLE_NAME = "profiles.json"
LOCAL_CACHE = Path(".snakemake") / "actionbench" / TABLE_NAME


@dataclass(frozen=True)
class ModelKey:
    """A network at an input size: what its cost depends on (not the run's data or protocol)."""

    arch: str
    backbone: str
    frames: int
    size: int
    temporal_pooling: bool = False
    tam_locations: str = "all"
    layout: str = "reference"

    @property
    def name(self) -> str:
        from actionbench.spec import model_name

        base = model_name(
            self.arch,
            self.backbone,
            self.temporal_pooling,
            tam_locations=self.tam_locations,
            layout=self.layout,
        )
        return f"{base}/f{self.frames}/{self.size}px"

    def spec_args(self) -> tuple[tuple, dict]:
        """(positional, keyword) arguments of ``build_model``/``profile_model`` for this model,
        its classifier sized NUM_CLASSES."""
        return (
            (self.arch, self.backbone, self.frames, NUM_CLASSES, self.temporal_pooling),
            {"tam_locations": self.tam_locations, "layout": self.layout},
        )

    @classmethod
    def of_run(cls, cfg: Mapping[str, Any]) -> ModelKey:
        """The model a resolved run config trains, at its training input size."""
        return cls(
            cfg["arch"],
            cfg["backbone"],
            int(cfg["frames"]),
            int(cfg["data"]["input_size"]),
            bool(cfg["temporal_pooling"]),
            cfg["tam_locations"],
            defaults.run_value(cfg, "layout"),
        )


@dataclass(frozen=True)
class Profile:
    gmacs: float  # billions of multiply-adds, one clip, forward
    params: int
    saved_bytes: int  # float32 activations a training forward keeps for backward, one clip


def measure(key: ModelKey) -> Profile:
    """Profile one model on the meta device (torch imported here, not at module import)."""
    import torch

    from actionbench.measure.profiling import profile_model
    from actionbench.models.registry import as_spec, build_model

    args, kwargs = key.spec_args()
    flops = profile_model(*args, size=key.size, **kwargs)
    spec = as_spec(*args, **kwargs)
    with torch.device("meta"):
        model = build_model(spec)
        clip = torch.empty(1, 3, key.frames, key.size, key.size)
    return Profile(flops["gflops"], int(flops["params"]), saved_activation_bytes(model, clip))


def saved_activation_bytes(model: Any, clip: Any) -> int:
    """Bytes of the tensors autograd saves in one training forward pass (parameters excluded)."""
    import torch

    params = {p.untyped_storage()._cdata for p in model.parameters()}
    saved: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage._cdata not in params:
            saved[storage._cdata] = storage.nbytes()
        return tensor

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(clip)
    return sum(saved.values())


class ProfileBook:
    """Profiles by model: the committed table, this checkout's cache, else measured and cached."""

    def __init__(self, table: Path, cache: Path = LOCAL_CACHE) -> None:
        self.table, self.cache = Path(table), Path(cache)
        self._known: dict[str, Profile] = {}
        self._cached: dict[str, dict] = {}
        for path in (self.table, self.cache):
            entries = _read(path)
            if path == self.cache:
                self._cached = dict(entries)
            for name, row in entries.items():
                self._known.setdefault(name, Profile(**row))

    def get(self, key: ModelKey) -> Profile:
        profile = self._known.get(key.name)
        if profile is None:
            log.info("profiling %s (not in %s)", key.name, self.table)
            profile = measure(key)
            self._known[key.name] = profile
            self._cached[key.name] = asdict(profile)
            _write(self.cache, self._cached)
        return profile


def write_table(path: Path, keys: list[ModelKey]) -> dict[str, dict]:
    """(Re)write a committed profile table for ``keys`` (``actionbench plan --write-profiles``)."""
    rows = {key.name: asdict(measure(key)) for key in sorted(set(keys), key=lambda k: k.name)}
    _write(Path(path), rows)
    return rows


def _read(path: Path) -> dict[str, dict]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return data.get("models", {})


def _write(path: Path, rows: Mapping[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "what": "per clip: gmacs (forward multiply-adds), params, saved_bytes (float32 "
        "activations a training forward keeps for backward); actionbench.cluster.profiles",
        "num_classes": NUM_CLASSES,
        "models": dict(sorted(rows.items())),
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the table from the checkout's other users
    os.replace(tmp, path)
