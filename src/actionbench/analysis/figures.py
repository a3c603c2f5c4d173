"""Report figures (matplotlib, headless): each written as PNG (embedded in HTML) and SVG.

Every function takes the tidy frame from plotdata.py (or the results) and returns the PNG path,
or None when there is nothing to draw — a figure is never drawn from invented points.
Models keep one colour and marker across figures (styles.py: pass the report's ``Styles``);
each figure that draws models writes the ones it drew to ``<stem>.styles.json``.

No two texts of a figure overlap: point labels are placed once the layout is final
(``place_labels``: the first free spot around the point, farther out with a leader line when the
near ones are taken), and tests/analysis/test_figure_labels.py checks every figure's drawn texts
(``drawn_texts``) pairwise.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from actionbench.analysis.styles import Styles, Used  # noqa: E402
from actionbench.analysis.tables import arch_key, backbone_key  # noqa: E402
from actionbench.spec import (  # noqa: E402
    ARCH_LABELS,
    DEFAULT_SAMPLING,
    DEFAULT_TAM_LOCATIONS,
)

# greys, so class groups and metrics are never read as models (those own the colours)
GROUP_COLORS = {"temporal": "#404040", "spatial": "#b5b5b5"}


def _save(fig, out_dir: Path, stem: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / f"{stem}.png"
    fig.savefig(png, dpi=110, bbox_inches="tight")
    fig.savefig(out_dir / f"{stem}.svg", bbox_inches="tight")
    plt.close(fig)
    return png


# where a point's label may go, nearest first: (dx, dy) in points and the text's alignment
LABEL_SPOTS = (
    (5, 0, "left", "center"),
    (-5, 0, "right", "center"),
    (0, 6, "center", "bottom"),
    (0, -6, "center", "top"),
    (5, 5, "left", "bottom"),
    (5, -5, "left", "top"),
    (-5, 5, "right", "bottom"),
    (-5, -5, "right", "top"),
)
LABEL_RINGS = (1, 2, 3, 4, 6)  # the spots scaled out, ring by ring (a leader line from 2 on)


def drawn_texts(fig) -> list[Text]:
    """The texts a draw of ``fig`` shows: titles, axis and legend labels, annotations, and the
    tick labels inside the axes' view (matplotlib keeps labels of ticks outside it, undrawn)."""
    tick_labels, shown = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                for label in (tick.label1, tick.label2):
                    tick_labels.add(id(label))
                    if low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                        shown.append(label)
    shown += [t for t in fig.findobj(Text) if id(t) not in tick_labels]
    return [t for t in shown if t.get_visible() and t.get_text().strip()]


def place_labels(fig, labels: list[tuple[object, float, float, str]], fontsize: float = 7) -> None:
    """Annotate points (axes, x, y, text) so that no label overlaps another text of the figure.

    Call it once the layout is final (after ``tight_layout``): each label takes the first spot
    of ``LABEL_SPOTS`` x ``LABEL_RINGS`` whose box meets no text drawn so far."""
    if not labels:
        return
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    taken = [t.get_window_extent(renderer) for t in drawn_texts(fig)]
    for ax, x, y, text in labels:
        note = None
        for ring in LABEL_RINGS:
            for dx, dy, ha, va in LABEL_SPOTS:
                if note is not None:
                    note.remove()
                note = ax.annotate(
                    text,
                    (x, y),
                    xytext=(dx * ring, dy * ring),
                    textcoords="offset points",
                    ha=ha,
                    va=va,
                    fontsize=fontsize,
                    arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.45"}
                    if ring > 1
                    else None,
                    zorder=4,
                )
                box = note.get_window_extent(renderer)
                if not any(box.overlaps(other) for other in taken):
                    break
            else:
                continue
            break
        taken.append(note.get_window_extent(renderer))


def _panels(n: int, width: float = 4.6, height: float = 3.4):
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _dataset_panels(frame: pd.DataFrame, width: float = 4.6, height: float = 3.4):
    """One panel per dataset of ``frame``, in name order: the figure, its axes, and
    ``(axis, dataset, that dataset's rows)`` for each panel."""
    datasets = sorted(frame["dataset"].unique())
    fig, axes = _panels(len(datasets), width=width, height=height)
    panels = [(ax, d, frame[frame["dataset"] == d]) for ax, d in zip(axes, datasets, strict=True)]
    return fig, axes, panels


def _shared_legend(fig, axes, marker_size: float | None = None) -> None:
    """One legend right of the panels, with every series of every panel once."""
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    if not seen:
        return
    legend = fig.legend(
        list(seen.values()),
        list(seen),
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        fontsize=7,
        frameon=False,
    )
    if marker_size is not None:
        for handle in legend.legend_handles:
            handle.set_sizes([marker_size])


def _model_legend(fig, used: Used, styles: Styles, frames: set) -> None:
    """One legend right of the figure: a line per model (its colour and marker) and, when the
    runs have several frame counts, a grey line per line style — one entry per model, not per
    run, so a grid of 60 runs keeps a legend of its models."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=m["color"], marker=m["marker"], label=label)
        for label, m in used.models.items()
    ]
    if len(frames) > 1:
        handles += [
            Line2D([], [], color="#555555", ls=styles.linestyle(f), label=f"f{f}")
            for f in sorted(frames, reverse=True)
        ]
    if handles:
        fig.legend(
            handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, frameon=False
        )


def group_accuracy_bars(results: pd.DataFrame, out_dir: Path, level: str = "clip") -> Path | None:
    """Top-1 on temporal vs spatial classes per model (the synthetic set's central picture)."""
    cols = [f"{level}_top1_temporal", f"{level}_top1_spatial"]
    if not set(cols) <= set(results.columns):
        return None
    ok = results[(results["status"] == "ok")].dropna(subset=cols)
    if ok.empty:
        return None
    labels = [f"{r.model}\nf{r.frames}" for r in ok.itertuples()]
    x = np.arange(len(ok))
    # a grid of 50+ runs stays a readable page width: narrower bars, rotated labels
    fig, ax = plt.subplots(figsize=(min(max(5, 1.2 * len(ok)), 22), 3.6))
    width = 0.38
    ax.bar(
        x - width / 2, ok[cols[0]], width, label="temporal classes", color=GROUP_COLORS["temporal"]
    )
    ax.bar(
        x + width / 2, ok[cols[1]], width, label="spatial classes", color=GROUP_COLORS["spatial"]
    )
    if len(ok) > 16:
        ax.set_xticks(list(x), [lbl.replace("\n", " ") for lbl in labels], fontsize=6, rotation=90)
    else:
        ax.set_xticks(list(x), labels, fontsize=8)
    ax.set_ylabel(f"{level}-level top-1 (%)")
    ax.set_ylim(0, 100)
    ax.axhline(50, ls=":", color="k", lw=0.8)
    ax.text(len(ok) - 0.5, 51, "chance within a forward/reversed pair", ha="right", fontsize=7)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Where motion matters:\ntemporal vs spatial classes", fontsize=10)
    return _save(fig, out_dir, f"group_accuracy_{level}")


def temporal_vs_spatial(
    results: pd.DataFrame, out_dir: Path, level: str = "clip", styles: Styles | None = None
) -> Path | None:
    """The headline figure: each run's top-1 on spatial classes (x) against temporal classes (y).

    Runs above the diagonal gain from motion; a frame-only model (TSN) sits near chance on the
    temporal pairs. One point per run whatever the grid size, in its model's colour and marker
    (lighter: fewer frames), one panel per dataset with class groups."""
    cols = [f"{level}_top1_spatial", f"{level}_top1_temporal"]
    if not set(cols) <= set(results.columns):
        return None
    ok = results[results["status"] == "ok"].dropna(subset=cols)
    if ok.empty:
        return None
    styles = styles or Styles(ok)
    used = Used()
    fig, axes, panels = _dataset_panels(ok, width=4.6, height=4.0)
    labels = []
    for ax, dataset, sub in panels:
        for r in sub.itertuples():
            style = used.add(styles.model(r.arch, r.backbone, r.tp))
            ax.scatter(
                getattr(r, cols[0]),
                getattr(r, cols[1]),
                s=70,
                marker=style.marker,
                color=styles.shade(style, r.frames),
                edgecolors="k",
                linewidths=0.5,
                label=style.label,
                zorder=3,
            )
            if len(sub) <= 12:
                labels.append((ax, getattr(r, cols[0]), getattr(r, cols[1]), f"f{r.frames}"))
        ax.plot([0, 100], [0, 100], ls=":", color="k", lw=0.8)
        ax.set_xlim(0, 106)
        ax.set_ylim(0, 106)
        ax.set_xlabel(f"{level}-level top-1 on spatial classes (%)")
        ax.set_ylabel(f"{level}-level top-1 on temporal classes (%)")
        ax.set_title(dataset, fontsize=9)
        ax.grid(alpha=0.3)
    _shared_legend(fig, axes)
    fig.suptitle("Temporal vs spatial classes (lighter: fewer frames)", fontsize=10)
    fig.tight_layout()
    place_labels(fig, labels)
    return used.write(_save(fig, out_dir, f"temporal_vs_spatial_{level}"))


def accuracy_vs_frames(
    data: pd.DataFrame, out_dir: Path, metric: str = "clip_top1", styles: Styles | None = None
) -> Path | None:
    """Fig. 4: top-1 against input frames; colour = model, marker = backbone, dashed = tp."""
    ok = data.dropna(subset=[metric]) if metric in data else data.iloc[0:0]
    if ok.empty:
        return None
    styles = styles or Styles(ok)
    used = Used()
    fig, axes, panels = _dataset_panels(ok)
    for ax, dataset, sub in panels:
        series = sorted(
            sub.groupby("model"),
            key=lambda kv: (
                backbone_key(kv[1]["backbone"].iloc[0]),
                arch_key(kv[1]["arch"].iloc[0]),
                kv[0],
            ),
        )
        for model, grp in series:
            grp = grp.sort_values("frames")
            first = grp.iloc[0]
            style = used.add(styles.model(first["arch"], first["backbone"], first["tp"]))
            variant = first.get("sampling", DEFAULT_SAMPLING) != DEFAULT_SAMPLING or first.get(
                "tam_locations", DEFAULT_TAM_LOCATIONS
            ) not in (None, DEFAULT_TAM_LOCATIONS)
            ax.plot(
                grp["frames"],
                grp[metric],
                label=model,
                color=style.color,
                marker=style.marker,
                ls=":" if variant else ("--" if bool(first["tp"]) else "-"),
            )
        frames = sorted(sub["frames"].unique())
        ax.set_xscale("log", base=2)
        ax.set_xticks(frames, [str(f) for f in frames])
        ax.minorticks_off()
        ax.set_xlabel("input frames")
        ax.set_ylabel(f"{metric.split('_')[0]}-level top-1 (%)")
        ax.set_title(dataset)
        ax.grid(alpha=0.3)
    _shared_legend(fig, axes)
    fig.suptitle(
        "Accuracy vs input frames (colour: model, marker: backbone, dashed: tp)", fontsize=10
    )
    fig.tight_layout()
    return used.write(_save(fig, out_dir, f"accuracy_vs_frames_{metric}"))


def tp_gain(
    data: pd.DataFrame, out_dir: Path, level: str = "clip", styles: Styles | None = None
) -> Path | None:
    """Fig. 6: accuracy gain of temporal pooling (tp minus no tp), per model and frames.

    Bars take the colour of the model with tp, lighter for fewer frames."""
    col = f"{level}_gain"
    ok = data.dropna(subset=[col]) if col in data else data.iloc[0:0]
    if ok.empty:
        return None
    styles = styles or Styles(ok.assign(tp=True, run_id=ok["run_tp"]))
    used = Used()
    fig, axes, panels = _dataset_panels(ok, width=5.5)
    for ax, dataset, rows in panels:
        sub = rows.copy()
        sub["label"] = [styles.model(r.arch, r.backbone, True).label for r in sub.itertuples()]
        models = sorted(
            sub["label"].unique(),
            key=lambda m: (
                backbone_key(sub.loc[sub["label"] == m, "backbone"].iloc[0]),
                arch_key(sub.loc[sub["label"] == m, "arch"].iloc[0]),
            ),
        )
        frames = sorted(sub["frames"].unique())
        width = 0.8 / len(frames)
        model_style = {
            m: used.add(styles.model(g["arch"].iloc[0], g["backbone"].iloc[0], True))
            for m, g in sub.groupby("label")
        }
        for i, f in enumerate(frames):
            vals = [sub[(sub["label"] == m) & (sub["frames"] == f)][col] for m in models]
            heights = [v.iloc[0] if len(v) else np.nan for v in vals]
            ax.bar(
                np.arange(len(models)) + (i - (len(frames) - 1) / 2) * width,
                heights,
                width,
                color=[styles.shade(model_style[m], f) for m in models],
                edgecolor="k",
                linewidth=0.4,
            )
            for j, h in enumerate(heights):
                if np.isfinite(h):
                    xj = j + (i - (len(frames) - 1) / 2) * width
                    ax.text(xj, 0, f"f{f}", ha="center", va="top", fontsize=6, rotation=90)
        ax.axhline(0, color="k", lw=0.8)
        # upright names beyond a few models: slanted ones' boxes would overlap
        slant = 30 if len(models) <= 4 else 90
        ax.set_xticks(
            range(len(models)),
            models,
            rotation=slant,
            ha="right" if slant < 90 else "center",
            fontsize=8,
        )
        ax.set_ylabel(f"{level}-level top-1 gain (points)")
        ax.set_title(dataset)
    fig.suptitle(
        "Gain from temporal pooling (with tp − without); lighter bars: fewer frames", fontsize=10
    )
    fig.tight_layout()
    return used.write(_save(fig, out_dir, f"tp_gain_{level}"))


def contribution_bars(table7: pd.DataFrame, out_dir: Path, level: str = "clip") -> Path | None:
    """Mean Φ / Ψ^ta / Ψ^ta+tp per module, one panel per dataset (and class group)."""
    if table7.empty:
        return None
    sub = table7[table7["level"] == level]
    if sub.empty:
        return None
    if "layout" not in sub:
        sub = sub.assign(layout="reference")
    panels = list(sub.groupby(["dataset", "layout", "sampling", "classes"], sort=True))
    fig, axes = _panels(len(panels), width=4.2)
    metrics = [
        ("phi", "mean Φ", "#404040"),
        ("psi_ta", "mean Ψ ta", "#8c8c8c"),
        ("psi_ta_tp", "mean Ψ ta+tp", "#d0d0d0"),
    ]
    for ax, ((dataset, layout, sampling, classes), grp) in zip(axes, panels, strict=True):
        grp = grp.sort_values("arch", key=lambda s: s.map(arch_key))
        x = np.arange(len(grp))
        for i, (col, label, color) in enumerate(metrics):
            vals = grp[col].astype(float).to_numpy()
            xs = x + (i - 1) * 0.27
            ax.bar(xs, vals, 0.27, label=label, color=color)
            for xi, v in zip(xs, vals, strict=True):
                ax.text(
                    xi,
                    (v if np.isfinite(v) else 0) + 0.02,
                    f"{v:.2f}" if np.isfinite(v) else "n/a",
                    ha="center",
                    fontsize=7,
                )
        ax.set_xticks(x, [ARCH_LABELS.get(a, a) for a in grp["arch"]])
        ax.set_xlim(-0.6, len(grp) - 0.4)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_ylim(
            min(
                -0.2,
                float(np.nanmin(grp[["psi_ta", "psi_ta_tp"]].astype(float).to_numpy(), initial=0))
                - 0.05,
            ),
            1.12,
        )
        title = dataset + ("" if classes == "all classes" else f", {classes}")
        title += "" if sampling == "uniform" else f", {sampling}"
        title += "" if layout == "reference" else f", {layout} layout"
        ax.set_title(title, fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8)
    fig.suptitle(f"Spatial (Φ) and temporal (Ψ) contributions, {level} level", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return _save(fig, out_dir, f"contributions_{level}")


def accuracy_vs_clips(
    curves: pd.DataFrame, out_dir: Path, styles: Styles | None = None
) -> Path | None:
    """Video-level top-1 as more clips are averaged (Fig. 8 left), one panel per dataset."""
    if curves.empty:
        return None
    styles = styles or Styles(curves.iloc[0:0])
    used = Used()
    curves = curves.copy()
    curves["dataset"] = curves["dataset"].fillna("")
    fig, axes, panels = _dataset_panels(curves)
    seen_frames: set = set()
    for ax, dataset, rows in panels:
        for rid, grp in rows.groupby("run_id"):
            style, frames = styles.run(rid)
            if frames is not None:
                used.add(style)
                seen_frames.add(frames)
            ax.plot(
                grp["num_clips"],
                grp["top1"],
                marker=style.marker,
                markersize=4,
                color=style.color,
                ls=styles.linestyle(frames),
                label=rid.split("/", 1)[-1],
            )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("clips averaged")
        ax.set_ylabel("video-level top-1 (%)")
        ax.set_title(dataset or "runs")
        ax.grid(alpha=0.3)
        if not used.models:  # runs unknown to the styles: name them
            ax.legend(fontsize=6)
    fig.tight_layout()
    _model_legend(fig, used, styles, seen_frames)
    return used.write(_save(fig, out_dir, "accuracy_vs_clips"))


def accuracy_vs_gflops(
    data: pd.DataFrame, out_dir: Path, metric: str = "video_top1", styles: Styles | None = None
) -> Path | None:
    """Fig. 1: top-1 against GFLOPs of one clip; bubble area proportional to parameters."""
    ok = data.dropna(subset=["gflops", metric]) if {"gflops", metric} <= set(data) else data[0:0]
    if ok.empty:
        return None
    styles = styles or Styles(ok)
    used = Used()
    fig, axes, panels = _dataset_panels(ok, width=5.2, height=4.0)
    pmax = float(ok["params"].max()) if ok["params"].notna().any() else 1.0
    labels = []
    for ax, dataset, sub in panels:
        for r in sub.itertuples():
            size = 40 + 900 * (float(r.params) / pmax if pd.notna(r.params) else 0.1)
            style = used.add(styles.model(r.arch, r.backbone, r.tp))
            ax.scatter(
                r.gflops,
                getattr(r, metric),
                s=size,
                alpha=0.6,
                color=styles.shade(style, r.frames),
                marker=style.marker,
                edgecolors="k",
                linewidths=0.5,
                label=style.label,
            )
            if len(sub) <= 12:  # beyond that, the names would cover each other
                labels.append((ax, r.gflops, getattr(r, metric), f"{r.model} f{r.frames}"))
        ax.margins(x=0.1, y=0.15)
        sizes = sorted({int(s) for s in sub["profile_size"].dropna()})
        px = f" at {'/'.join(str(s) for s in sizes)} px" if sizes else ""
        ax.set_xlabel(f"GFLOPs per clip{px}")
        ax.set_ylabel(f"{metric.split('_')[0]}-level top-1 (%)")
        ax.set_title(dataset)
        ax.grid(alpha=0.3)
    _shared_legend(fig, axes, marker_size=60)
    fig.suptitle("Accuracy vs FLOPs (bubble area: parameters; lighter: fewer frames)", fontsize=10)
    fig.tight_layout()
    place_labels(fig, labels)
    return used.write(_save(fig, out_dir, f"accuracy_vs_gflops_{metric}"))


def per_class_accuracy(
    data: pd.DataFrame,
    out_dir: Path,
    level: str = "clip",
    max_runs: int = 8,
    styles: Styles | None = None,
) -> Path | None:
    """Per-class top-1 with classes grouped temporal / spatial (datasets with class groups)."""
    col = f"{level}_top1"
    ok = data.dropna(subset=["group", col]) if {"group", col} <= set(data) else data[0:0]
    if ok.empty:
        return None
    styles = styles or Styles(ok.iloc[0:0])
    used = Used()
    datasets = sorted(ok["dataset"].dropna().unique())
    fig, axes = _panels(len(datasets), width=9.0, height=3.8)
    if len(datasets) > 1:
        fig.set_size_inches(9.0, 3.8 * len(datasets))
    for ax, dataset in zip(axes, datasets, strict=True):
        sub = ok[ok["dataset"] == dataset]
        runs = sorted(sub["run_id"].unique())[:max_runs]
        classes = (
            sub[["label", "label_name", "group"]]
            .drop_duplicates("label")
            .sort_values(
                ["group", "label"],
                key=lambda s: s.map(
                    lambda v: (0 if v == "temporal" else 1) if isinstance(v, str) else v
                ),
            )
        )
        x = np.arange(len(classes))
        width = 0.8 / len(runs)
        for i, rid in enumerate(runs):
            acc = sub[sub["run_id"] == rid].set_index("label")[col]
            style, frames = styles.run(rid)
            if frames is not None:
                used.add(style)
            ax.bar(
                x + (i - (len(runs) - 1) / 2) * width,
                [acc.get(lbl, np.nan) for lbl in classes["label"]],
                width,
                color=styles.shade(style, frames),
                edgecolor="k",
                linewidth=0.3,
                label=rid.split("/", 1)[-1],
            )
        start = 0
        for group, grp in classes.groupby("group", sort=False):
            ax.axvspan(
                start - 0.5,
                start + len(grp) - 0.5,
                alpha=0.07,
                color=GROUP_COLORS.get(group, "#999"),
            )
            ax.text(start + len(grp) / 2 - 0.5, 102, f"{group} classes", ha="center", fontsize=8)
            start += len(grp)
        ax.set_xticks(x, classes["label_name"], rotation=35, ha="right", fontsize=7)
        ax.set_ylim(0, 110)
        ax.set_ylabel(f"{level}-level top-1 (%)")
        ax.set_title(
            dataset + (f" (first {max_runs} runs)" if sub["run_id"].nunique() > max_runs else ""),
            fontsize=9,
        )
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return used.write(_save(fig, out_dir, f"per_class_{level}"))


def training_curves(
    histories: dict[str, pd.DataFrame], out_dir: Path, styles: Styles | None = None
) -> Path | None:
    """Training loss and validation top-1 per epoch; colour = model, line style = frames."""
    if not histories:
        return None
    styles = styles or Styles(pd.DataFrame())
    used = Used()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2))
    seen_frames: set = set()
    for rid, hist in histories.items():
        style, frames = styles.run(rid)
        if frames is not None:
            used.add(style)
            seen_frames.add(frames)
        kw = {"color": style.color, "ls": styles.linestyle(frames), "label": rid}
        if "loss" in hist:
            ax_loss.plot(hist["epoch"], hist["loss"], **kw)
        if "val_top1" in hist and hist["val_top1"].notna().any():
            val = hist["val_top1"]
            ax_acc.plot(hist["epoch"], val * 100 if val.max() <= 1 else val, **kw)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("val top-1, 1 clip (%)")
    if not used.models:  # runs unknown to the styles: name them
        ax_acc.legend(fontsize=6)
    fig.tight_layout()
    _model_legend(fig, used, styles, seen_frames)
    return used.write(_save(fig, out_dir, "training_curves"))
