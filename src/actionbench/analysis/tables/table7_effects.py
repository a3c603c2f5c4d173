"""Table 7: the effects of spatio-temporal modelling (mean Phi and Psi per module, Eq. 1-2),
and the per-model Phi/Psi it averages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import pandas as pd

from actionbench.analysis.contributions import contribution_table, pair_with_tsn
from actionbench.analysis.tables.base import (
    DASH,
    LEVELS,
    Table,
    arch_key,
    display_frame,
    fairness_flags,
    fmt,
    order_rows,
    waiting_for,
)
from actionbench.spec import ARCH_LABELS, LAYOUTS

METRIC_LABELS = {
    "phi": "mean Φ (spatial)",
    "psi_ta": "mean Ψ^ta (temporal aggregation)",
    "psi_ta_tp": "mean Ψ^ta+tp (aggregation + pooling)",
}


def class_groups(results: pd.DataFrame) -> list[str]:
    """Class groups with per-group accuracies in the results (e.g. temporal, spatial)."""
    groups = []
    for col in results.columns:
        if col.startswith("clip_top1_") and results[col].notna().any():
            groups.append(col[len("clip_top1_") :])
    return groups


def contributions(
    results: pd.DataFrame, protocols: Mapping[str, Mapping[str, str]] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(Table 7 long form, Phi/Psi per model) for each level and class group ("all" first).

    ``protocols`` (run id -> ``fairness.protocol_record``): a TSN counterpart whose protocol
    differs from the model's in anything but the code version is refused (contributions.py)."""
    tables, pairs = [], []
    for level, col in LEVELS.items():
        for group in ["all"] + class_groups(results):
            metric = col if group == "all" else f"{col}_{group}"
            if metric not in results or not results[metric].notna().any():
                continue
            p = pair_with_tsn(results, metric, protocols)
            t = contribution_table(p)
            for frame in (p, t):
                frame.insert(1, "level", level)
                frame.insert(2, "classes", f"{group} classes")
            pairs.append(p)
            tables.append(t)
    if not tables:
        return pd.DataFrame(), pd.DataFrame()
    return pd.concat(tables, ignore_index=True), pd.concat(pairs, ignore_index=True)


class Table7Data(NamedTuple):
    """The numbers of Table 7 and of its per-model companion, in table order (``table7_data``)."""

    long: pd.DataFrame  # mean Phi/Psi per dataset, layout, sampling, level, classes, module
    melted: pd.DataFrame  # the same, one row per metric (``metric``, value in ``top1``)
    groups: dict[str, list[str]]  # "<model> vs <TSN counterpart>" -> the two run ids compared
    missing: list[str]  # runs without a TSN counterpart (left out, not guessed)
    clip_long: pd.DataFrame  # rows of ``long`` at clip level, all classes (the paper's Table 7)
    clip_pairs: pd.DataFrame  # per-model Phi/Psi at clip level, all classes
    refused: dict[str, str]  # run -> "<TSN run>: the protocol factors that differ" (left out)


def table7_data(long: pd.DataFrame, pairs: pd.DataFrame) -> Table7Data:
    """Ordering and selection for Table 7 (pure): ``contributions(results)`` in, the ordered
    numeric frames, the (model, TSN counterpart) groups compared and the models without a
    counterpart out. Kept apart from ``table7`` so the numbers can be checked without the
    formatting. ``long`` comes back empty (groups and missing still filled: they say why)
    when no mean Phi or Psi^ta+tp exists."""
    groups: dict[str, list[str]] = {}
    missing: list[str] = []
    refused: dict[str, str] = {}
    if not pairs.empty:
        # one flag list over every (model, TSN counterpart) pair actually used
        used = pairs[~pairs["tsn_missing"].astype(bool)]
        groups = {
            f"{r.run_id} vs {r.tsn_run_id}": [r.run_id, r.tsn_run_id]
            for r in used.drop_duplicates(["run_id", "tsn_run_id"]).itertuples()
        }
        unpaired = pairs[pairs["tsn_missing"].astype(bool)]
        mismatch = unpaired.get("tsn_mismatch", pd.Series("", index=unpaired.index))
        refused = {
            rid: why
            for rid, why in sorted(zip(unpaired["run_id"], mismatch.fillna(""), strict=True))
            if why
        }
        missing = sorted(set(unpaired["run_id"]) - set(refused))
    if long.empty or long.dropna(subset=["phi", "psi_ta_tp"], how="all").empty:
        none = pd.DataFrame()
        return Table7Data(long.iloc[0:0], none, groups, missing, none, none, refused)
    # blocks of one dataset, layout, sampling and class subset ("all classes" first)
    block_order = [
        ("dataset", None),
        ("layout", LAYOUTS.index),
        ("sampling", None),
        ("classes", lambda c: "" if c == "all classes" else c),
    ]
    long = order_rows(long, [*block_order, ("arch", arch_key)])
    melted = long.melt(
        id_vars=["dataset", "layout", "sampling", "level", "classes", "arch"],
        value_vars=list(METRIC_LABELS),
        var_name="metric",
        value_name="top1",
    )
    melted = order_rows(
        melted, [*block_order, ("metric", list(METRIC_LABELS).index), ("arch", arch_key)]
    )
    clip_long = long[(long["level"] == "clip") & (long["classes"] == "all classes")]
    clip_pairs = pairs[(pairs["level"] == "clip") & (pairs["classes"] == "all classes")]
    return Table7Data(long, melted, groups, missing, clip_long, clip_pairs, refused)


def table7(
    results: pd.DataFrame,
    protocols: Mapping[str, dict],
    contrib: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> tuple[Table, Table]:
    """Table 7 (mean Phi/Psi per module) and the per-model Phi/Psi it averages.

    ``contrib``: ``contributions(results)`` when the caller already has it (computed once)."""
    title = "Table 7 — effects of spatio-temporal modelling (mean Φ, mean Ψ)"
    long, pairs = contrib if contrib is not None else contributions(results, protocols)
    data = table7_data(long, pairs)
    base = (~results["tp"].astype(bool)) & (results["tam_locations"] == "all")
    if data.long.empty:
        why = waiting_for(
            results,
            base,
            "it needs TSN without temporal pooling and another module "
            "at the same dataset, layout, backbone, frames and sampling",
        )
        if (data.missing or data.refused) and not data.groups:
            unpaired = data.missing + [f"{rid} ({why})" for rid, why in data.refused.items()]
            why = (
                "no model has a TSN counterpart (same dataset, layout, backbone, frames, "
                "sampling and protocol, TSN without temporal pooling): " + ", ".join(unpaired[:8])
            )
        return (
            Table("table7", title, missing=why),
            Table("table7_pairs", "Φ and Ψ per model", missing=why),
        )
    melted = data.melted.assign(
        Metric=data.melted["metric"].map(METRIC_LABELS),
        Module=data.melted["arch"].map(lambda a: ARCH_LABELS.get(a, a)),
        Classes=data.melted["classes"],
    )
    melted = melted.assign(Layout=melted["layout"])
    index = ["dataset"] + (["Layout"] if data.long["layout"].nunique() > 1 else [])
    index += ["sampling"] if data.long["sampling"].nunique() > 1 else []
    if data.long["classes"].nunique() > 1:
        index.append("Classes")
    index.append("Metric")
    frame = display_frame(melted, index, ["Module", "level"], decimals=2)
    frame = frame.rename_axis(index=[n if n != "dataset" else "Dataset" for n in index])
    notes = [
        "Φ = S_TSN / max(S_a, S_TSN) and Ψ = (S_a − S_TSN) / (100 − S_TSN) per model (Eq. 1), "
        "with S_TSN the accuracy of TSN without temporal pooling at the same dataset, layout, "
        "backbone, frames, sampling and protocol (a model and its TSN counterpart differ in the "
        "module alone); averaged over the backbones and frame counts that exist (Eq. 2). "
        "Mean Φ and mean Ψ^ta: models without temporal pooling; mean Ψ^ta+tp: models with "
        "it (still against TSN without it). "
        "The paper's Table 7 is the clip level on all classes.",
    ]
    if not data.clip_long.empty:
        several = data.clip_long["layout"].nunique() > 1

        def averaged(r) -> str:
            where = f"{r.dataset}{f' ({r.layout})' if several else ''}"
            out = f"{where} {ARCH_LABELS.get(r.arch, r.arch)}: {r.n_ta} without tp"
            if r.n_phi != r.n_ta:
                out += f" ({r.n_phi} for Φ: Ψ is undefined where S_TSN = 100)"
            return out + f", {r.n_ta_tp} with tp"

        notes.append(
            "Pairs averaged (clip level, all classes): "
            + "; ".join(averaged(r) for r in data.clip_long.itertuples())
        )
    if data.missing:
        notes.append("No TSN counterpart (left out, not guessed): " + ", ".join(data.missing))
    if data.refused:
        notes.append(
            "TSN counterpart with another protocol (left out, not averaged): "
            + "; ".join(f"{rid} vs {why}" for rid, why in data.refused.items())
        )
    table = Table("table7", title, frame, data.long, notes, fairness_flags(protocols, data.groups))

    detail = data.clip_pairs
    detail_frame = pd.DataFrame(
        {
            "model": detail["run_id"],
            "TSN counterpart": [
                tsn if isinstance(tsn, str) else (f"refused: {why}" if why else "missing")
                for tsn, why in zip(
                    detail["tsn_run_id"], detail["tsn_mismatch"].fillna(""), strict=True
                )
            ],
            "S_a": detail["s_a"].map(fmt),
            "S_TSN": detail["s_tsn"].map(lambda v: fmt(float(v)) if pd.notna(v) else DASH),
            "Φ": detail["phi"].map(lambda v: fmt(v, 3)),
            "Ψ": detail["psi"].map(lambda v: fmt(v, 3)),
        }
    ).set_index("model")
    detail_table = Table(
        "table7_pairs",
        "Φ and Ψ per model (clip level, all classes)",
        detail_frame,
        pairs,
        [
            "The per-model values Table 7 averages; video level and class groups "
            "are in contributions.csv."
        ],
    )
    return table, detail_table
