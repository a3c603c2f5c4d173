"""Benchmark records of one device type: measured throughput and memory per clip, per model.

A record file, ``<records>/<device slug>.json``, is written by ``actionbench benchmark --grid``
on one GPU of the cluster (docs/slurm.md, "Records for your GPU type"): for every distinct
model of the enabled grid, a training step and an inference step at two batch sizes, so that
peak memory splits into a fixed part (weights, gradients, optimizer state, CUDA context) and a
part per clip. ``auto`` sizing reads them through :class:`RecordBook`.

The device type is what ``torch.cuda.get_device_name`` says (``NVIDIA A100-SXM4-80GB``), or
``cpu``; ``resources.cluster.gpu_type`` names the one to size for.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actionbench import defaults
from actionbench.cluster.profiles import ModelKey
from actionbench.errors import ConfigError

log = logging.getLogger(__name__)

# Inference first: on CPU peak memory is the process's resident set, which never shrinks, so the
# smaller footprint must be measured before the larger one (GPUs reset their peak per step).
MODES = ("inference", "train")


def device_slug(device_type: str) -> str:
    """File name stem of a device type: ``NVIDIA A100-SXM4-80GB`` -> ``nvidia-a100-sxm4-80gb``."""
    slug = re.sub(r"[^a-z0-9]+", "-", device_type.lower()).strip("-")
    if not slug:
        raise ConfigError(f"device type {device_type!r} has no letters or digits")
    return slug


def record_path(folder: str | Path, device_type: str) -> Path:
    return Path(folder) / f"{device_slug(device_type)}.json"


@dataclass(frozen=True)
class Measured:
    """One model's measurement in one mode."""

    clips_per_s: float
    mem_per_clip: float  # bytes
    mem_fixed: float  # bytes


def split_memory(batches: list[int], peaks: list[int]) -> tuple[float, float]:
    """(bytes per clip, fixed bytes) from peak memory at two batch sizes (a straight line)."""
    (b1, b2), (p1, p2) = batches, peaks
    per_clip = max(0.0, (p2 - p1) / (b2 - b1))
    return per_clip, max(0.0, p2 - per_clip * b2)


class RecordBook:
    """The records of one device type; empty when none were made."""

    def __init__(self, folder: str | Path, device_type: str) -> None:
        self.device_type = device_type
        self.path = record_path(folder, device_type)
        self.rows: dict[str, dict] = {}
        if self.path.is_file():
            doc = json.loads(self.path.read_text())
            recorded = doc.get("device_type", "")
            if recorded.lower() != device_type.lower():
                raise ConfigError(
                    f"{self.path}: records of {recorded!r}, but resources.cluster.gpu_type is "
                    f"{device_type!r}"
                )
            self.rows = {row["model"]: row for row in doc.get("records", [])}

    def __bool__(self) -> bool:
        return bool(self.rows)

    def measured(self, key: ModelKey, mode: str) -> Measured | None:
        row = self.rows.get(key.name, {}).get(mode)
        if not row:
            return None
        per_clip, fixed = split_memory(row["batch_sizes"], row["peak_mem_bytes"])
        return Measured(row["clips_per_s"], per_clip, fixed)

    def rate(self, key: ModelKey, mode: str) -> tuple[float, str] | None:
        """(GMACs per second, what it comes from) of the most similar recorded model.

        Same architecture and backbone first, then same architecture, then same backbone,
        then the median of every record: 2D and 3D convolutions run at different efficiencies,
        so a model's own family predicts it best.
        """
        rows = [r for r in self.rows.values() if r.get(mode)]
        for similar in (
            lambda r: r["arch"] == key.arch and r["backbone"] == key.backbone,
            lambda r: r["arch"] == key.arch,
            lambda r: r["backbone"] == key.backbone,
            lambda r: True,
        ):
            chosen = [r for r in rows if similar(r)]
            if chosen:
                rates = [r["gmacs"] * r[mode]["clips_per_s"] for r in chosen]
                names = ", ".join(sorted(r["model"] for r in chosen)[:3])
                more = f" +{len(chosen) - 3}" if len(chosen) > 3 else ""
                return statistics.median(rates), f"recorded rate of {names}{more}"
        return None


def measure_models(
    keys: Iterable[ModelKey],
    gmacs: Mapping[str, float],
    device: str,
    batch_size: int,
    amp: Any,
    iters: int = 3,
) -> list[dict]:
    """Benchmark each model in both modes at ``batch_size // 2`` and ``batch_size`` clips."""
    from actionbench.measure.model_benchmark import benchmark_model
    from actionbench.models import build_model

    if batch_size < 2:
        raise ConfigError("--grid needs --batch-size >= 2 (memory is measured at two sizes)")
    batches = [batch_size // 2, batch_size]
    rows = []
    for key in keys:
        row: dict[str, Any] = {
            "model": key.name,
            "arch": key.arch,
            "backbone": key.backbone,
            "frames": key.frames,
            "size": key.size,
            "temporal_pooling": key.temporal_pooling,
            "tam_locations": key.tam_locations,
            "layout": key.layout,
            "gmacs": gmacs[key.name],
        }
        for mode in MODES:
            results = []
            for batch in batches:
                args, kwargs = key.spec_args()
                model = build_model(*args, **kwargs)
                log.info("benchmarking %s %s at batch %d on %s", key.name, mode, batch, device)
                results.append(
                    benchmark_model(
                        model, batch, key.frames, key.size, device, mode, 1, iters, amp=amp
                    )
                )
                del model
            row[mode] = {
                "batch_sizes": batches,
                "peak_mem_bytes": [r["peak_mem_bytes"] for r in results],
                "clips_per_s": results[-1]["clips_per_s"],
                "step_ms": results[-1]["step_ms"],
                "amp": results[-1]["amp"],
            }
        rows.append(row)
    return rows


def write_records(path: Path, device_type: str, rows: list[dict], about: Mapping) -> None:
    """Merge ``rows`` into a record file (a model measured again replaces its old row)."""
    path = Path(path)
    old = json.loads(path.read_text()) if path.is_file() else {}
    if old and old.get("device_type", "").lower() != device_type.lower():
        raise ConfigError(
            f"{path} holds records of {old.get('device_type')!r}, not {device_type!r}"
        )
    merged = {r["model"]: r for r in old.get("records", [])}
    merged.update({r["model"]: r for r in rows})
    doc = {
        "device_type": device_type,
        "what": "actionbench benchmark --grid: per model, train and inference steps at two "
        "batch sizes (peak memory -> bytes per clip + fixed), clips/s at the larger",
        "measured": datetime.date.today().isoformat(),
        **about,
        "records": [merged[k] for k in sorted(merged)],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")


def device_type(device: str) -> str:
    """What records are filed under: the GPU's name, or ``cpu``."""
    import torch

    if torch.device(device).type == "cuda":
        return torch.cuda.get_device_name(torch.device(device))
    return "cpu"


def record_grid(
    params: Mapping[str, Any],
    device: str,
    batch_size: int,
    amp: Any,
    iters: int,
    folder: str | Path | None = None,
) -> tuple[Path, list[dict]]:
    """Benchmark every distinct model of the enabled grid at its input size on ``device`` and
    merge the rows into ``<records>/<device slug>.json`` (``actionbench benchmark --grid``)."""
    import platform

    import torch

    from actionbench.cluster.profiles import TABLE_NAME, ProfileBook
    from actionbench.config import expand_grid, run_protocol

    cluster = defaults.cluster((params.get("resources") or {}).get("cluster"))
    folder = Path(folder or cluster["records"])
    runs = expand_grid(params)
    keys = sorted(
        {ModelKey.of_run(run_protocol(params, rid, runs)) for rid in runs}, key=lambda k: k.name
    )
    profiles = ProfileBook(folder / TABLE_NAME)
    gmacs = {key.name: profiles.get(key).gmacs for key in keys}
    kind = device_type(device)
    rows = measure_models(keys, gmacs, device, batch_size, amp, iters)
    about = {
        "torch": torch.__version__,
        "host": platform.node(),
        "threads": torch.get_num_threads(),
    }
    path = record_path(folder, kind)
    write_records(path, kind, rows, about)
    return path, rows
