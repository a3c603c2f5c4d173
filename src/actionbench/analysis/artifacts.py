"""Read the per-run files the engine saves (configs, predictions, curves) for the report.

Every reader returns ``None`` (or an empty frame) for a file that is not there: a report over
a half-finished grid shows what exists and says what is missing, it never fails on a gap.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from actionbench.analysis.collect import read_json
from actionbench.config import run_protocol
from actionbench.errors import ConfigError
from actionbench.spec import RunSpec

log = logging.getLogger(__name__)

PREDICTION_COLUMNS = ("video_id", "label", "group", "clip_pred", "video_pred")


def run_configs(
    params: dict, runs: dict[str, RunSpec], runs_dir: Path
) -> dict[str, tuple[dict | None, dict | None]]:
    """Per run: (the config it was trained with, from ``config.json``; the config params.yaml
    gives it now, from ``run_protocol``). Either may be None (not trained / not resolvable)."""
    out = {}
    for rid in runs:
        saved = read_json(runs_dir / rid / "config.json") or read_json(
            runs_dir / rid / "eval" / "config.json"
        )
        try:
            current = run_protocol(params, rid, runs)
        except (ConfigError, KeyError) as err:
            log.warning("cannot resolve the protocol of %s: %s", rid, err)
            current = None
        out[rid] = (saved, current)
    return out


def train_metrics(runs_dir: Path, rid: str) -> dict | None:
    return read_json(runs_dir / rid / "train_metrics.json")


def load_predictions(runs_dir: Path, rid: str) -> pd.DataFrame | None:
    """``eval/predictions.csv`` without the logits (video_id, label, group, clip/video_pred)."""
    path = runs_dir / rid / "eval" / "predictions.csv"
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, usecols=lambda c: c in PREDICTION_COLUMNS)
    except (ValueError, pd.errors.ParserError) as err:
        log.warning("unreadable %s: %s", path, err)
        return None
    if not {"video_id", "label"} <= set(frame.columns):
        log.warning("%s: expected columns video_id and label", path)
        return None
    frame["video_id"] = frame["video_id"].astype(str)
    return frame


def load_per_class(
    runs_dir: Path, rid: str, predictions: pd.DataFrame | None
) -> pd.DataFrame | None:
    """``eval/per_class.csv`` with each class's ``group`` (from predictions.csv) when known."""
    path = runs_dir / rid / "eval" / "per_class.csv"
    if not path.is_file():
        return None
    frame = pd.read_csv(path)
    if predictions is not None and "group" in predictions:
        groups = predictions.drop_duplicates("label").set_index("label")["group"]
        frame["group"] = frame["label"].map(groups)
    frame.insert(0, "run_id", rid)
    return frame


def load_curves(run_ids, runs_dir: Path) -> pd.DataFrame:
    """Accuracy vs number of clips (``eval/acc_vs_clips.csv``), long format, percent."""
    frames = []
    for rid in run_ids:
        path = runs_dir / rid / "eval" / "acc_vs_clips.csv"
        if not path.is_file():
            continue
        curve = pd.read_csv(path).rename(columns={"clips": "num_clips"})
        for col in ("top1", "top5"):
            if col in curve and curve[col].max() <= 1.0:
                curve[col] = curve[col] * 100
        curve.insert(0, "run_id", rid)
        frames.append(curve)
    if not frames:
        return pd.DataFrame(columns=["run_id", "num_clips", "top1", "top5"])
    return pd.concat(frames, ignore_index=True)


def load_histories(run_ids, runs_dir: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for rid in run_ids:
        path = runs_dir / rid / "history.csv"
        if path.is_file():
            out[rid] = pd.read_csv(path)
    return out
