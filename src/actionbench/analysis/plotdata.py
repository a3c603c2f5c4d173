"""The data behind each figure, as tidy frames: drawn by figures.py, written as CSV for DVC.

``dvc plots show``/``diff`` read these CSVs (``reports/plots/*.csv``), so the numbers a figure
shows are versioned and diffable without the PNG.
"""

from __future__ import annotations

import pandas as pd

from actionbench.analysis.tables import model_label

IDENT = ["run_id", "dataset", "arch", "backbone", "tp", "frames", "sampling", "tam_locations"]


def _ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["status"] == "ok"]


def accuracy_vs_frames(results: pd.DataFrame) -> pd.DataFrame:
    """Fig. 4: top-1 against input frames, one series per model (module-backbone[-tp])."""
    ok = _ok(results)
    cols = IDENT + ["clip_top1", "video_top1"]
    if ok.empty:
        return pd.DataFrame(columns=["model"] + cols)
    out = ok[cols].copy()
    out.insert(
        0,
        "model",
        [
            model_label(r.arch, r.backbone, r.tp, r.sampling, r.tam_locations)
            for r in ok.itertuples()
        ],
    )
    return out.sort_values(["dataset", "model", "frames"]).reset_index(drop=True)


def tp_gain(results: pd.DataFrame) -> pd.DataFrame:
    """Fig. 6: top-1 with temporal pooling minus without, for each model that has both."""
    ok = _ok(results)
    keys = ["dataset", "arch", "backbone", "frames", "sampling", "tam_locations"]
    cols = keys + [
        "run_no_tp",
        "run_tp",
        "clip_no_tp",
        "clip_tp",
        "clip_gain",
        "video_no_tp",
        "video_tp",
        "video_gain",
    ]
    if ok.empty:
        return pd.DataFrame(columns=cols)
    plain = ok[~ok["tp"].astype(bool)]
    pooled = ok[ok["tp"].astype(bool)]
    both = plain.merge(pooled, on=keys, how="inner", suffixes=("_no_tp", "_tp"))
    if both.empty:
        return pd.DataFrame(columns=cols)
    out = both[keys].copy()
    out["run_no_tp"], out["run_tp"] = both["run_id_no_tp"], both["run_id_tp"]
    out["clip_no_tp"], out["clip_tp"] = both["clip_top1_no_tp"], both["clip_top1_tp"]
    out["video_no_tp"], out["video_tp"] = both["video_top1_no_tp"], both["video_top1_tp"]
    out["clip_gain"] = out["clip_tp"] - out["clip_no_tp"]
    out["video_gain"] = out["video_tp"] - out["video_no_tp"]
    return out[cols].sort_values(keys).reset_index(drop=True)


def acc_vs_clips(
    curves: pd.DataFrame, results: pd.DataFrame, runs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Video-level top-1 when averaging the first k clips, with each run's identity.

    ``runs``: ``accuracy_vs_frames(results)`` when the caller already has it."""
    cols = ["run_id", "dataset", "model", "frames", "sampling", "num_clips", "top1", "top5"]
    if curves.empty:
        return pd.DataFrame(columns=cols)
    runs = accuracy_vs_frames(results) if runs is None else runs
    info = runs[["run_id", "dataset", "model", "frames", "sampling"]]
    out = curves.merge(info, on="run_id", how="left")
    for col in cols:
        if col not in out:
            out[col] = float("nan")
    return out[cols]


def accuracy_vs_gflops(profiled: pd.DataFrame) -> pd.DataFrame:
    """Fig. 1: top-1 against GFLOPs of one clip, bubble size = parameters (profiled runs only)."""
    ok = _ok(profiled)
    cols = (
        ["model"]
        + IDENT
        + [
            "clip_top1",
            "video_top1",
            "gflops",
            "params",
            "profile_size",
            "eval_clips",
            "eval_crops",
        ]
    )
    if ok.empty or "gflops" not in ok or ok["gflops"].isna().all():
        return pd.DataFrame(columns=cols)
    ok = ok[ok["gflops"].notna()]
    out = ok.copy()
    out["model"] = [
        model_label(r.arch, r.backbone, r.tp, r.sampling, r.tam_locations) for r in ok.itertuples()
    ]
    for col in cols:
        if col not in out:
            out[col] = float("nan")
    return out[cols].reset_index(drop=True)


def per_class(
    frames: list[pd.DataFrame], results: pd.DataFrame, runs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per-class top-1 of every run (``eval/per_class.csv``) with the class group when known.

    ``runs``: ``accuracy_vs_frames(results)`` when the caller already has it."""
    cols = [
        "run_id",
        "dataset",
        "model",
        "label",
        "label_name",
        "group",
        "num_videos",
        "clip_top1",
        "video_top1",
    ]
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    runs = accuracy_vs_frames(results) if runs is None else runs
    info = runs[["run_id", "dataset", "model"]]
    out = out.merge(info, on="run_id", how="left")
    for col in cols:
        if col not in out:
            out[col] = float("nan")
    return out[cols]
