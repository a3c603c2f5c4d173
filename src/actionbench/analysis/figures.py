"""Report figures (matplotlib, headless): each written as PNG (embedded in HTML) and SVG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

ARCH_COLORS = {
    "tsn": "#7f7f7f", "tam": "#d62728", "tsm": "#ff7f0e", "tconv": "#9467bd",
    "i3d": "#1f77b4", "s3d": "#2ca02c", "nln": "#8c564b", "i3d_se": "#17becf",
    "slowfast": "#e377c2",
}


def _save(fig, out_dir: Path, stem: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / f"{stem}.png"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    fig.savefig(out_dir / f"{stem}.svg", bbox_inches="tight")
    plt.close(fig)
    return png


def group_accuracy_bars(results: pd.DataFrame, out_dir: Path, level: str = "clip") -> Path | None:
    """Top-1 on temporal vs spatial classes per model (the synthetic set's central picture)."""
    cols = [f"{level}_top1_temporal", f"{level}_top1_spatial"]
    ok = results[(results["status"] == "ok")].dropna(subset=cols)
    if ok.empty:
        return None
    labels = [f"{r.model}\nf{r.frames}" for r in ok.itertuples()]
    x = range(len(ok))
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(ok)), 3.6))
    width = 0.38
    ax.bar([i - width / 2 for i in x], ok[cols[0]], width, label="temporal classes", color="#d62728")
    ax.bar([i + width / 2 for i in x], ok[cols[1]], width, label="spatial classes", color="#1f77b4")
    ax.set_xticks(list(x), labels, fontsize=8)
    ax.set_ylabel(f"{level}-level top-1 (%)")
    ax.set_ylim(0, 100)
    ax.axhline(50, ls=":", color="k", lw=0.8)
    ax.text(len(ok) - 0.5, 51, "chance within a forward/reversed pair", ha="right", fontsize=7)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Where motion matters: temporal vs spatial classes")
    return _save(fig, out_dir, f"group_accuracy_{level}")


def accuracy_vs_frames(results: pd.DataFrame, out_dir: Path, metric: str = "clip_top1") -> Path | None:
    """Fig. 4 style: accuracy as a function of input frames, one line per model."""
    ok = results[(results["status"] == "ok")].dropna(subset=[metric])
    if ok.empty:
        return None
    datasets = sorted(ok["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.5 * len(datasets), 3.4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        sub = ok[ok["dataset"] == dataset]
        for model, grp in sub.groupby("model"):
            grp = grp.sort_values("frames")
            arch = grp["arch"].iloc[0]
            ax.plot(grp["frames"], grp[metric], marker="o", label=model,
                    color=ARCH_COLORS.get(arch), ls="--" if grp["tp"].iloc[0] else "-")
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted(sub["frames"].unique()), [str(f) for f in sorted(sub["frames"].unique())])
        ax.set_xlabel("input frames")
        ax.set_ylabel(f"{metric.replace('_', ' ')} (%)")
        ax.set_title(dataset)
        ax.legend(fontsize=7)
    return _save(fig, out_dir, f"accuracy_vs_frames_{metric}")


def accuracy_vs_clips(curves: pd.DataFrame, out_dir: Path) -> Path | None:
    """Video-level accuracy as more clips are averaged (curves: run_id, clips, top1)."""
    if curves.empty:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for rid, grp in curves.groupby("run_id"):
        ax.plot(grp["clips"], grp["top1"], marker=".", label=rid)
    ax.set_xlabel("clips averaged")
    ax.set_ylabel("video-level top-1 (%)")
    ax.legend(fontsize=6)
    return _save(fig, out_dir, "accuracy_vs_clips")


def training_curves(histories: dict[str, pd.DataFrame], out_dir: Path) -> Path | None:
    if not histories:
        return None
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2))
    for rid, hist in histories.items():
        if "loss" in hist:
            ax_loss.plot(hist["epoch"], hist["loss"], label=rid)
        if "val_top1" in hist:
            val = hist["val_top1"]
            ax_acc.plot(hist["epoch"], val * 100 if val.max() <= 1 else val, label=rid)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("val top-1, 1 clip (%)")
    ax_acc.legend(fontsize=6)
    return _save(fig, out_dir, "training_curves")
