"""Tiny run directories shaped like the engine's outputs (docs/engine.md), built in tmp_path.

Metrics are computed from the predictions written, so every file of a run agrees with the
others, as the engine's do.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CLASSES = ["move_right", "move_left", "red_square", "blue_circle"]
GROUPS = ["temporal", "temporal", "spatial", "spatial"]


def write_run(
    run_dir: Path,
    labels: np.ndarray,
    clip_pred: np.ndarray,
    video_pred: np.ndarray | None = None,
    config: dict | None = None,
    num_clips: int = 4,
    num_crops: int = 1,
    epochs: int = 2,
) -> dict:
    """Write eval/{metrics.json,predictions.csv,per_class.csv,acc_vs_clips.csv}, history.csv,
    train_metrics.json and (if given) config.json; returns the metrics."""
    video_pred = clip_pred if video_pred is None else video_pred
    (run_dir / "eval").mkdir(parents=True, exist_ok=True)
    groups = np.array([GROUPS[i] for i in labels])
    pred = pd.DataFrame(
        {
            "video_id": [f"v{i:04d}" for i in range(len(labels))],
            "label": labels,
            "label_name": [CLASSES[i] for i in labels],
            "group": groups,
            "clip_pred": clip_pred,
            "video_pred": video_pred,
        }
    )
    for k in range(len(CLASSES)):  # logits columns, as the engine writes them
        pred[f"clip_logit_{k}"] = (clip_pred == k).astype(float)
        pred[f"video_logit_{k}"] = (video_pred == k).astype(float)
    pred.to_csv(run_dir / "eval" / "predictions.csv", index=False)
    clip_ok, video_ok = clip_pred == labels, video_pred == labels
    metrics = {
        "clip_top1": 100 * clip_ok.mean(),
        "video_top1": 100 * video_ok.mean(),
        "clip_top5": 100.0,
        "video_top5": 100.0,
        "mean_class_acc": 100 * clip_ok.mean(),
        "num_videos": len(labels),
        "num_clips": num_clips,
        "num_crops": num_crops,
    }
    for g in ("temporal", "spatial"):
        metrics[f"clip_top1_{g}"] = 100 * clip_ok[groups == g].mean()
        metrics[f"video_top1_{g}"] = 100 * video_ok[groups == g].mean()
    per_class = pd.DataFrame(
        {
            "label": range(len(CLASSES)),
            "label_name": CLASSES,
            "num_videos": [int((labels == k).sum()) for k in range(len(CLASSES))],
            "clip_top1": [100 * clip_ok[labels == k].mean() for k in range(len(CLASSES))],
            "video_top1": [100 * video_ok[labels == k].mean() for k in range(len(CLASSES))],
        }
    )
    per_class.to_csv(run_dir / "eval" / "per_class.csv", index=False)
    pd.DataFrame(
        {
            "num_clips": range(1, num_clips + 1),
            "top1": np.linspace(metrics["clip_top1"], metrics["video_top1"], num_clips),
            "top5": 100.0,
        }
    ).to_csv(run_dir / "eval" / "acc_vs_clips.csv", index=False)
    pd.DataFrame(
        {
            "epoch": range(1, epochs + 1),
            "loss": np.linspace(2, 1, epochs),
            "val_top1": np.linspace(30, metrics["clip_top1"], epochs),
        }
    ).to_csv(run_dir / "history.csv", index=False)
    write_trained(run_dir, {"epochs": epochs}, metrics, config)
    if config is not None:
        (run_dir / "config.json").write_text(json.dumps(config))
    return metrics


def write_trained(
    run_dir: Path, train_metrics: dict, eval_metrics: dict | None, config: dict | None = None
) -> None:
    """final.pt, train_metrics.json and eval/metrics.json as the jobs leave them: the train
    record names final.pt's digest (and, given the run's config, the run's identity); the
    evaluation names the weights it scored, so ``actionbench status`` calls it current."""
    from actionbench.identity import eval_identity, train_identity, weights_record

    weights = f"weights of {run_dir}".encode()
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "final.pt").write_bytes(weights)
    record = {**train_metrics, "final": weights_record(weights)}
    if config is not None:
        record["identity"] = train_identity(config)
    (run_dir / "train_metrics.json").write_text(json.dumps(record))
    if eval_metrics is not None:
        if config is not None:
            identity = eval_identity({**config, "output_dir": str(run_dir)})
        else:
            identity = {"version": 1, "model": weights_record(weights)["sha256"]}
        (run_dir / "eval").mkdir(exist_ok=True)
        (run_dir / "eval" / "metrics.json").write_text(
            json.dumps({**eval_metrics, "identity": identity})
        )


def predictions_with_accuracy(
    labels: np.ndarray, accuracy: float, temporal_acc: float | None, seed: int
) -> np.ndarray:
    """Predictions right on a given share of videos (per group when temporal_acc is given)."""
    rng = np.random.default_rng(seed)
    pred = labels.copy()
    groups = np.array([GROUPS[i] for i in labels])
    for g, acc in (
        ("temporal", temporal_acc if temporal_acc is not None else accuracy),
        ("spatial", accuracy if temporal_acc is None else (2 * accuracy - temporal_acc)),
    ):
        idx = np.flatnonzero(groups == g)
        wrong = rng.choice(idx, size=int(round(len(idx) * (1 - acc / 100))), replace=False)
        pred[wrong] = (labels[wrong] + 1) % len(CLASSES)
    return pred


@pytest.fixture
def labels() -> np.ndarray:
    return np.repeat(np.arange(len(CLASSES)), 16)  # 64 videos, 16 per class


@pytest.fixture
def demo_runs(tmp_path, params_file, base_params, labels):
    """The demo grid (TSN/TAM-ResNet18, f8 and f16) with results in tmp_path/runs.

    TSN is at chance within the temporal pairs, TAM gets them right — the synthetic set's
    point. Each run has the config.json run_protocol gives it, as the engine writes.
    """
    from actionbench.config import expand_grid, load_params, run_protocol

    base_params["project"]["runs_dir"] = str(tmp_path / "runs")
    path = params_file(base_params)
    params = load_params(path)
    accuracy = {
        ("tsn", 8): (75.0, 50.0),
        ("tsn", 16): (75.0, 50.0),
        ("tam", 8): (96.875, 93.75),
        ("tam", 16): (100.0, 100.0),
    }
    for i, (rid, spec) in enumerate(expand_grid(params).items()):
        acc, temporal = accuracy[(spec.arch, spec.frames)]
        cfg = run_protocol(params, rid)
        pred = predictions_with_accuracy(labels, acc, temporal, seed=i)
        write_run(
            tmp_path / "runs" / rid, labels, pred, pred, cfg, epochs=cfg["schedule"]["epochs"]
        )
    return params, path


@pytest.fixture
def run_files():
    """(write_run, predictions_with_accuracy), for tests that build a grid of their own."""
    return write_run, predictions_with_accuracy
