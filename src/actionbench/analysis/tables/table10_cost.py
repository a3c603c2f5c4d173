"""Table 10: parameters and GFLOPs of every model of the grid (``actionbench profile``)."""

from __future__ import annotations

import pandas as pd

from actionbench.analysis.tables.base import Table, arch_key, backbone_key, fmt, order_rows
from actionbench.spec import BACKBONE_LABELS
from actionbench.spec import label as model_label

MODEL_KEYS = ["arch", "backbone", "tp", "tam_locations"]


def table10_models(profiled: pd.DataFrame) -> pd.DataFrame:
    """Selection for Table 10 (pure): one row per model and frame count of the grid, in table
    order (backbone, module, tp, frames), with its profiled ``params``, ``gflops`` and the input
    ``size`` profiled at (NaN where not profiled). Runs of one model differing only in dataset or
    sampling are one row: the network is the same. ``profiled``: ``efficiency.attach_profiles``.
    Kept apart from ``table10`` so the numbers can be checked without the formatting."""
    models = profiled.drop_duplicates(MODEL_KEYS + ["sampling", "frames"])
    models = order_rows(
        models, [("backbone", backbone_key), ("arch", arch_key), ("tp", None), ("frames", None)]
    )
    rows = [
        {
            "frames": r["frames"],
            "params": r["params"],
            "gflops": r["gflops"],
            "size": r["profile_size"],
            **{k: r[k] for k in MODEL_KEYS},
        }
        for _, r in models.iterrows()
    ]
    columns = ["frames", "params", "gflops", "size", *MODEL_KEYS]
    return pd.DataFrame(rows, columns=columns).drop_duplicates(MODEL_KEYS + ["frames"])


def table10(
    results: pd.DataFrame, profiled: pd.DataFrame, have_profiles: bool, inputs: str
) -> Table:
    """Parameters and GFLOPs of every model of the grid (from ``actionbench profile``)."""
    title = "Table 10 — parameters and FLOPs"
    if not have_profiles:
        return Table(
            "table10",
            title,
            missing=(
                f"not profiled: no profile data ({inputs}); the profile stage writes it with "
                "`actionbench profile --table --frames F --num-classes N --csv PATH`"
            ),
        )
    models = table10_models(profiled)
    labels = pd.DataFrame(
        {
            "Backbone": models["backbone"].map(lambda b: BACKBONE_LABELS.get(b, b)),
            "Model": [
                model_label(r.arch, r.backbone, r.tp, "uniform", r.tam_locations)
                for r in models.itertuples()
            ],
        },
        index=models.index,
    )
    tidy = pd.concat([labels, models], axis=1)
    wide_flops = tidy.pivot_table(
        index=["Backbone", "Model"], columns="frames", values="gflops", aggfunc="first", sort=False
    )
    params = tidy.groupby(["Backbone", "Model"], sort=False)["params"].first()
    frame = pd.DataFrame(index=params.index)
    frame["Params (M)"] = params.map(lambda v: fmt(v / 1e6) if pd.notna(v) else "not profiled")
    for f in sorted(tidy["frames"].unique()):
        col = wide_flops[f] if f in wide_flops else pd.Series(dtype=float)
        frame[f"GFLOPs f={f}"] = [
            fmt(col.get(i)) if pd.notna(col.get(i)) else "not profiled" for i in frame.index
        ]
    sizes = sorted({int(s) for s in tidy["size"].dropna()})
    notes = [
        "GFLOPs: billions of multiply-adds (fvcore convention) for ONE clip"
        + (f" at {', '.join(f'{s}x{s}' for s in sizes)} px" if sizes else "")
        + "; parameters include the classifier of the profiled class count. "
        f"Source: {inputs}."
    ]
    return Table("table10", title, frame, tidy, notes)
