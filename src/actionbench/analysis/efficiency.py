"""Cost of the models (Tables 8 and 10, Fig. 1) from files other stages wrote: no model code here.

The report never builds a network. Parameters/FLOPs come from ``actionbench profile`` output and
speed/memory from ``actionbench benchmark --out`` files, looked up in the reports directory:

* ``profile.csv`` and/or ``profile/*.csv``: ``actionbench profile --table --frames F
  --num-classes N --csv PATH`` (columns model, arch, backbone, temporal_pooling, frames, size,
  params, gflops; ``num_classes``/``tam_locations`` optional), or ``profile/*.json`` holding
  ``actionbench profile ... --json`` output (one object or a list of them).
* ``benchmarks/*.json``: ``actionbench benchmark ... --json --out FILE`` results (keys arch,
  backbone, temporal_pooling, frames, device and one object per mode, ``train`` and/or
  ``inference``, with step_ms, clips_per_s, peak_mem_bytes, batch_size, optionally
  max_batch_size). Other JSON files there (e.g. the data-loading benchmark) are skipped.

A model with no matching profile row is shown as "not profiled", never estimated.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from actionbench.spec import DEFAULT_TAM_LOCATIONS, DEFAULT_TEMPORAL_POOLING

log = logging.getLogger(__name__)

PROFILE_COLUMNS = [
    "arch",
    "backbone",
    "tp",
    "frames",
    "tam_locations",
    "size",
    "num_classes",
    "params",
    "gflops",
    "source",
]
BENCH_COLUMNS = [
    "arch",
    "backbone",
    "tp",
    "frames",
    "mode",
    "device",
    "batch_size",
    "size",
    "threads",
    "torch",
    "step_ms",
    "step_ms_min",
    "clips_per_s",
    "peak_mem_bytes",
    "max_batch_size",
    "source",
]
MATCH_KEYS = ("arch", "backbone", "tp", "frames", "tam_locations")


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value) if value is not None and not pd.isna(value) else False


def _profile_records(path: Path) -> list[dict]:
    if path.suffix == ".csv":
        return pd.read_csv(path).to_dict("records")
    data = json.loads(path.read_text())
    return data if isinstance(data, list) else [data]


def profile_files(reports_dir: Path) -> list[Path]:
    files = [reports_dir / "profile.csv"] if (reports_dir / "profile.csv").is_file() else []
    sub = reports_dir / "profile"
    if sub.is_dir():
        files += sorted(p for p in sub.iterdir() if p.suffix in (".csv", ".json"))
    return files


def load_profiles(paths: list[Path]) -> pd.DataFrame:
    """All profile rows, normalised (``tp`` bool, ``tam_locations`` default "all")."""
    rows = []
    for path in paths:
        try:
            records = _profile_records(path)
        except (OSError, ValueError, pd.errors.ParserError) as err:
            log.warning("unreadable profile file %s: %s", path, err)
            continue
        for rec in records:
            if not {"arch", "backbone", "frames", "params", "gflops"} <= set(rec):
                log.warning("%s: a row without arch/backbone/frames/params/gflops: %s", path, rec)
                continue
            rows.append(
                {
                    "arch": rec["arch"],
                    "backbone": rec["backbone"],
                    "tp": _bool(
                        rec.get("temporal_pooling", rec.get("tp", DEFAULT_TEMPORAL_POOLING))
                    ),
                    "frames": int(rec["frames"]),
                    "tam_locations": rec.get("tam_locations") or DEFAULT_TAM_LOCATIONS,
                    "size": int(rec["size"]) if rec.get("size") is not None else None,
                    "num_classes": (
                        int(rec["num_classes"])
                        if rec.get("num_classes") is not None
                        and not pd.isna(rec.get("num_classes"))
                        else None
                    ),
                    "params": int(rec["params"]),
                    "gflops": float(rec["gflops"]),
                    "source": str(path),
                }
            )
    frame = pd.DataFrame(rows, columns=PROFILE_COLUMNS)
    if not frame.empty:  # a later file wins for the same model
        frame = frame.drop_duplicates(list(MATCH_KEYS) + ["size", "num_classes"], keep="last")
    return frame.reset_index(drop=True)


def attach_profiles(
    results: pd.DataFrame, profiles: pd.DataFrame, input_sizes: dict[str, int] | None = None
) -> pd.DataFrame:
    """``params``, ``gflops`` and ``profile_size`` per run; NaN where not profiled.

    Several sizes for one model: the profile at the run's own input size wins, else 224.
    """
    out = results.copy()
    for col in ("params", "gflops", "profile_size"):
        out[col] = float("nan")
    if profiles.empty:
        return out
    input_sizes = input_sizes or {}
    for idx, row in out.iterrows():
        match = profiles
        for key in MATCH_KEYS:
            value = row.get(key, DEFAULT_TAM_LOCATIONS if key == "tam_locations" else None)
            if key == "tp":
                value = bool(value)
            match = match[match[key] == value]
        if match.empty:
            continue
        want = input_sizes.get(row["run_id"])
        pick = match[match["size"] == want] if want is not None else match.iloc[0:0]
        if pick.empty:
            pick = match[match["size"] == 224]
        if pick.empty:
            pick = match
        best = pick.iloc[-1]
        out.at[idx, "params"] = best["params"]
        out.at[idx, "gflops"] = best["gflops"]
        out.at[idx, "profile_size"] = best["size"]
    return out


def load_benchmarks(bench_dir: Path) -> pd.DataFrame:
    """One row per (benchmark file, mode) of ``actionbench benchmark`` results in ``bench_dir``."""
    rows = []
    if not bench_dir.is_dir():
        return pd.DataFrame(columns=BENCH_COLUMNS)
    for path in sorted(bench_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            log.warning("unreadable benchmark file %s: %s", path, err)
            continue
        if not isinstance(data, dict) or not {"arch", "backbone", "frames"} <= set(data):
            log.debug("%s is not a model benchmark; skipped", path)
            continue
        for mode in ("train", "inference"):
            res = data.get(mode)
            if not isinstance(res, dict) or "clips_per_s" not in res:
                continue
            rows.append(
                {
                    "arch": data["arch"],
                    "backbone": data["backbone"],
                    "tp": _bool(data.get("temporal_pooling", DEFAULT_TEMPORAL_POOLING)),
                    "frames": int(data["frames"]),
                    "mode": mode,
                    "device": res.get("device", data.get("device")),
                    "batch_size": res.get("batch_size"),
                    "size": res.get("size"),
                    "threads": res.get("threads"),
                    "torch": data.get("torch"),
                    "step_ms": res.get("step_ms"),
                    "step_ms_min": res.get("step_ms_min"),
                    "clips_per_s": res.get("clips_per_s"),
                    "peak_mem_bytes": res.get("peak_mem_bytes"),
                    "max_batch_size": res.get("max_batch_size"),
                    "source": path.name,
                }
            )
    return pd.DataFrame(rows, columns=BENCH_COLUMNS)
