"""The paper's tables, in the paper's shapes, filled from whatever runs of the grid exist.

Each paper table is built in two layers:

* a pure selection/computation function (``table4_runs``, ``table5_runs``, ``table6_runs``,
  ``contributions`` then ``table7_data``, ``table8_rows``, ``table10_models``): frames in,
  numbers out (which runs, in table order, with the groups compared or the consistency
  flags), nothing formatted and the inputs left untouched, so the numbers can be tested on
  their own;
* a builder (``table4`` ... ``table10``) that calls it and only formats: labels, ``fmt``, the
  display frame, notes, fairness flags and, when empty, what would fill it.

The builder takes the collected results (one row per run, see ``collect.py``) and returns a
``Table``: a display frame (formatted strings, possibly with multi-level rows/columns), the same
numbers in tidy form (written as CSV), notes, and fairness flags for the runs it compares.
A table none of whose runs exist is returned with ``frame=None`` and ``missing`` saying which
runs would fill it: numbers are never invented.

Clip-level (one clip, the paper's default) and video-level (``eval.num_clips`` x
``eval.num_crops`` views) top-1 are shown side by side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from actionbench.analysis import fairness
from actionbench.analysis.collect import INIT_COUNTS
from actionbench.analysis.contributions import contribution_table, pair_with_tsn
from actionbench.spec import (
    ARCH_LABELS,
    BACKBONE_LABELS,
    BACKBONES,
    LAYOUTS,
    LOCATION_LABELS,
    RESNET_BLOCKS,
    init_source_run,
    parse_run_id,
)
from actionbench.spec import label as model_label

LEVELS = {"clip": "clip_top1", "video": "video_top1"}
ARCH_ORDER = ("tsn", "i3d", "s3d", "tconv", "tam", "tsm", "nln", "i3d_se", "slowfast")
DASH = "–"


@dataclass
class Table:
    key: str
    title: str
    frame: pd.DataFrame | None = None
    data: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    missing: str | None = None

    @property
    def shown(self) -> bool:
        return self.frame is not None and not self.frame.empty


# --------------------------------------------------------------------------- helpers


def fmt(value, decimals: int = 1) -> str:
    if value is None:
        return DASH
    if isinstance(value, float):
        if math.isnan(value):
            return DASH
        return f"{value:.{decimals}f}"
    return str(value)


def arch_key(arch: str) -> int:
    return ARCH_ORDER.index(arch) if arch in ARCH_ORDER else len(ARCH_ORDER)


def backbone_key(backbone: str) -> int:
    return BACKBONES.index(backbone) if backbone in BACKBONES else len(BACKBONES)


def _ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["status"] == "ok"]


def _tidy(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Long format: one row per run and level with its top-1."""
    rows = []
    for _, r in frame.iterrows():
        for level, col in LEVELS.items():
            rows.append(
                {
                    **{k: r[k] for k in keys},
                    "level": level,
                    "top1": r.get(col),
                    "run_id": r["run_id"],
                }
            )
    return pd.DataFrame(rows)


def _waiting(results: pd.DataFrame, mask: pd.Series, hint: str) -> str:
    """Why a table is empty: which grid runs would fill it, or what to enable."""
    candidates = results[mask]
    pending = candidates[candidates["status"] != "ok"]
    if candidates.empty:
        return f"no run of the grid fits it; {hint}"
    if pending.empty:
        return f"the {len(candidates)} evaluated run(s) that fit are not enough: {hint}"
    listed = ", ".join(f"{r.run_id} ({r.status})" for r in pending.head(8).itertuples())
    more = f" and {len(pending) - 8} more" if len(pending) > 8 else ""
    return f"waiting for results of: {listed}{more}"


def _flags(protocols, groups, studied=()) -> list[str]:
    return [f.message() for f in fairness.group_flags(protocols, groups, studied)]


def _display(tidy: pd.DataFrame, index: list[str], columns: list[str], decimals=1) -> pd.DataFrame:
    """Pivot tidy numbers into a display frame of formatted strings (missing cells: –)."""
    cells = tidy.groupby(index + columns, sort=False, dropna=False)["top1"].first()
    wide = cells.unstack(columns)
    # unstack sorts labels; restore the order of first appearance (the builders' order)
    col_order = list(
        dict.fromkeys(
            tuple(r) if len(columns) > 1 else r[0] for r in tidy[columns].itertuples(index=False)
        )
    )
    row_order = list(
        dict.fromkeys(
            tuple(r) if len(index) > 1 else r[0] for r in tidy[index].itertuples(index=False)
        )
    )
    wide = wide.reindex(index=row_order, columns=col_order)
    wide.index.names = index
    wide.columns.names = columns
    return wide.map(lambda v: fmt(float(v), decimals) if pd.notna(v) else DASH)


def _order(frame: pd.DataFrame, by: list[tuple[str, object]]) -> pd.DataFrame:
    """Sort rows by (column, key function or None) pairs."""
    keys = []
    cols = []
    for col, key in by:
        tmp = f"__{col}"
        frame = frame.assign(**{tmp: frame[col].map(key) if key else frame[col]})
        keys.append(tmp)
        cols.append(tmp)
    return frame.sort_values(keys, kind="stable").drop(columns=cols)


# --------------------------------------------------------------------------- results


RESULT_COLUMNS = {
    "run_id": "run",
    "status": "status",
    "clip_top1": "clip top-1",
    "clip_top1_temporal": "clip top-1 temporal",
    "clip_top1_spatial": "clip top-1 spatial",
    "video_top1": "video top-1",
    "video_top1_temporal": "video top-1 temporal",
    "video_top1_spatial": "video top-1 spatial",
    "clip_top5": "clip top-5",
    "eval_clips": "clips",
    "eval_crops": "crops",
    "num_videos": "videos scored",
    "num_videos_dropped": "videos dropped",
    "epochs": "epochs",
}
# Counts: whole numbers even where a missing value made the column float.
COUNT_COLUMNS = ("num_videos", "num_videos_dropped")


def results_table(results: pd.DataFrame, stale: Mapping[str, list[str]] | None = None) -> Table:
    """Every run of the grid: status and accuracies (percent)."""
    cols = [
        c
        for c in RESULT_COLUMNS
        if c in results.columns and (c in ("run_id", "status") or results[c].notna().any())
    ]
    frame = results[cols].copy()

    def cell(column: str, v) -> str:
        if v is None or pd.isna(v):
            return DASH
        if column in COUNT_COLUMNS:
            return str(int(v))
        return fmt(v) if isinstance(v, float) else str(v)

    out = pd.DataFrame({RESULT_COLUMNS[c]: frame[c].map(lambda v, c=c: cell(c, v)) for c in cols})
    notes = [
        "Top-1/top-5 in %. Clip level: one clip, centre crop; video level: the run's "
        "clips x crops, logits averaged."
    ]
    if "num_videos_dropped" in cols:
        notes.append(
            "Videos scored / dropped: the validation videos each run was scored on, and those "
            "left out for having fewer frames than data.eval_min_frames (the reference layout "
            "drops what the reference's test.py -e drops: Kinetics < 30 frames, SSV2 < 3; "
            "eval/dropped.csv names them)."
        )
    stale = {k: v for k, v in (stale or {}).items() if v}
    if stale:
        notes.append(
            "Stale runs (their saved config differs from params.yaml now; Snakemake "
            "would retrain them): "
            + "; ".join(
                f"{rid}: {', '.join(d[:3])}{' …' if len(d) > 3 else ''}" for rid, d in stale.items()
            )
        )
    return Table("results", "Accuracy of every run (%)", out.set_index("run"), results[cols], notes)


# --------------------------------------------------------------------------- Table 5


def table5_runs(results: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Selection for Table 5 (pure): the evaluated runs without temporal pooling in all blocks,
    in table order, and the groups compared (dataset, sampling, backbone, frames -> run ids).
    Empty when fewer than two modules exist."""
    base = (~results["tp"].astype(bool)) & (results["tam_locations"] == "all")
    ok = _ok(results[base])
    if ok.empty or ok["arch"].nunique() < 2:
        return ok.iloc[0:0], {}
    ok = _order(
        ok,
        [
            ("dataset", None),
            ("sampling", None),
            ("frames", None),
            ("backbone", backbone_key),
            ("arch", arch_key),
        ],
    )
    groups: dict[str, list[str]] = {}
    for keys, grp in ok.groupby(["dataset", "sampling", "backbone", "frames"], sort=False):
        groups[f"{keys[0]}, {BACKBONE_LABELS.get(keys[2], keys[2])}, f={keys[3]}"] = list(
            grp["run_id"]
        )
    return ok, groups


def table5(results: pd.DataFrame, protocols: Mapping[str, dict]) -> Table:
    """Temporal aggregation strategies without temporal pooling, by backbone and frames."""
    title = "Table 5 — temporal aggregation without temporal pooling (top-1 %)"
    base = (~results["tp"].astype(bool)) & (results["tam_locations"] == "all")
    ok, groups = table5_runs(results)
    if ok.empty:
        return Table(
            "table5",
            title,
            missing=_waiting(
                results,
                base,
                "it needs at least two modules (e.g. TSN and TAM) without temporal "
                "pooling at the same backbone and frame count",
            ),
        )
    tidy = _tidy(ok, ["dataset", "sampling", "frames", "backbone", "arch"])
    tidy["f"] = tidy["frames"].map(lambda f: f"f={f}")
    tidy["Backbone"] = tidy["backbone"].map(lambda b: BACKBONE_LABELS.get(b, b))
    tidy["Module"] = tidy["arch"].map(lambda a: ARCH_LABELS.get(a, a))
    index = ["dataset"] + (["sampling"] if ok["sampling"].nunique() > 1 else []) + ["f"]
    frame = _display(tidy, index, ["Backbone", "Module", "level"])
    frame.index.names = ["Dataset"] + (["Sampling"] if len(index) == 3 else []) + ["Frames"]
    notes = [
        "Rows: dataset and input frames; columns: backbone, module (None = TSN, no "
        "temporal modelling), then clip- and video-level top-1. Modules are compared "
        "within a backbone and frame count."
    ]
    if ok["sampling"].nunique() == 1:
        notes.append(f"All runs use {ok['sampling'].iloc[0]} sampling.")
    return Table(
        "table5",
        title,
        frame,
        tidy.drop(columns=["f", "Backbone", "Module"]),
        notes,
        _flags(protocols, groups),
    )


# --------------------------------------------------------------------------- Table 6


def table6_runs(results: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Selection for Table 6 (pure): evaluated TAM runs without temporal pooling at the
    (backbone, frames, sampling) where a location variant exists, in table order, and the
    groups compared (dataset, backbone, frames -> run ids). Empty without variants."""
    base = (results["arch"] == "tam") & (~results["tp"].astype(bool))
    ok = _ok(results[base])
    keys = ["backbone", "frames", "sampling"]
    with_variants = ok[ok["tam_locations"] != "all"][keys].drop_duplicates()
    if with_variants.empty:
        return ok.iloc[0:0], {}
    ok = ok.merge(with_variants, on=keys)
    ok = _order(
        ok,
        [
            ("backbone", backbone_key),
            ("frames", None),
            ("sampling", None),
            (
                "tam_locations",
                lambda loc: list(LOCATION_LABELS).index(loc) if loc in LOCATION_LABELS else 99,
            ),
            ("dataset", None),
        ],
    )
    groups = {
        f"{d}, {BACKBONE_LABELS.get(b, b)}, f={f}": list(g["run_id"])
        for (d, b, f), g in ok.groupby(["dataset", "backbone", "frames"], sort=False)
    }
    return ok, groups


def table6(results: pd.DataFrame, protocols: Mapping[str, dict]) -> Table:
    """Numbers and locations of TAMs (w/o temporal pooling)."""
    title = "Table 6 — numbers and locations of TAMs, without temporal pooling (top-1 %)"
    base = (results["arch"] == "tam") & (~results["tp"].astype(bool))
    variant = base & (results["tam_locations"] != "all")
    ok, groups = table6_runs(results)
    if ok.empty:
        return Table(
            "table6",
            title,
            missing=_waiting(
                results,
                variant,
                "enable the Table 6 groups (experiments.paper_table6_*: "
                "tam_locations top_half/bottom_half/uniform_half)",
            ),
        )

    def count(r) -> str:
        n = RESNET_BLOCKS.get(r["backbone"])
        if n is None:
            return DASH
        return str(n if r["tam_locations"] == "all" else n // 2)

    tidy = _tidy(ok, ["dataset", "backbone", "frames", "sampling", "tam_locations"])
    tidy["Backbone"] = tidy["backbone"].map(lambda b: BACKBONE_LABELS.get(b, b))
    tidy["f"] = tidy["frames"].map(lambda f: f"f={f}")
    tidy["# of TAMs"] = tidy.apply(count, axis=1)
    tidy["Locations"] = tidy["tam_locations"].map(lambda loc: LOCATION_LABELS.get(loc, loc))
    index = (
        ["Backbone", "f"]
        + (["sampling"] if ok["sampling"].nunique() > 1 else [])
        + ["# of TAMs", "Locations"]
    )
    frame = _display(tidy, index, ["dataset", "level"])
    frame.index.names = [
        {"f": "Frames", "sampling": "Sampling"}.get(n, n) for n in frame.index.names
    ]
    notes = [
        "Top = the residual blocks closest to the output, bottom = closest to the input, "
        "uniform = every other block; a half holds ⌊n/2⌋ of the n blocks."
    ]
    return Table(
        "table6",
        title,
        frame,
        tidy.drop(columns=["Backbone", "f", "Locations"]),
        notes,
        _flags(protocols, groups),
    )


# --------------------------------------------------------------------------- Table 7


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
    long = _order(
        long,
        [
            ("dataset", None),
            ("layout", LAYOUTS.index),
            ("sampling", None),
            ("classes", lambda c: "" if c == "all classes" else c),
            ("arch", arch_key),
        ],
    )
    melted = long.melt(
        id_vars=["dataset", "layout", "sampling", "level", "classes", "arch"],
        value_vars=list(METRIC_LABELS),
        var_name="metric",
        value_name="top1",
    )
    melted = _order(
        melted,
        [
            ("dataset", None),
            ("layout", LAYOUTS.index),
            ("sampling", None),
            ("classes", lambda c: "" if c == "all classes" else c),
            ("metric", list(METRIC_LABELS).index),
            ("arch", arch_key),
        ],
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
        why = _waiting(
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
    frame = _display(melted, index, ["Module", "level"], decimals=2)
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
    table = Table("table7", title, frame, data.long, notes, _flags(protocols, data.groups))

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


# --------------------------------------------------------------------------- Table 4


def transfer_rows(results: pd.DataFrame, configs: Mapping[str, dict | None]) -> pd.DataFrame:
    """Runs initialised from a checkpoint of a run on another dataset (the transfer study)."""
    rows = []
    for _, r in results.iterrows():
        cfg = configs.get(r["run_id"]) or {}
        init = cfg.get("init") or {}
        if init.get("kind") != "checkpoint":
            continue
        src = init_source_run(init)
        if src is None:
            continue
        source = parse_run_id(src)
        if source["dataset"] == r["dataset"]:
            continue
        rows.append(
            {
                **r.to_dict(),
                "source_run": src,
                "source_dataset": source["dataset"],
                "new_head": bool(init.get("new_head")),
            }
        )
    return pd.DataFrame(rows)


def table4_runs(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Selection for Table 4 (pure): of the transfer runs (``transfer_rows``: initialised from a
    run on another dataset), the evaluated ones in table order, and the groups compared (target
    dataset -> run ids). Kept apart from ``table4`` so the numbers can be checked without
    formatting. Empty when no transfer run is evaluated."""
    ok = _ok(rows) if not rows.empty else rows
    if ok.empty:
        return ok, {}
    ok = _order(
        ok,
        [
            ("source_dataset", None),
            ("backbone", backbone_key),
            ("arch", arch_key),
            ("frames", None),
            ("dataset", None),
        ],
    )
    groups = {f"target {d}": list(g["run_id"]) for d, g in ok.groupby("dataset", sort=False)}
    return ok, groups


def table4(
    results: pd.DataFrame, configs: Mapping[str, dict | None], protocols: Mapping[str, dict]
) -> Table:
    """Transfer: top-1 on each target dataset of models fine-tuned from another dataset."""
    title = "Table 4 — transferability (top-1 %)"
    rows = transfer_rows(results, configs)
    if rows.empty:
        return Table(
            "table4",
            title,
            missing=(
                "no run of the grid starts from another dataset's run; enable e.g. "
                "experiments.paper_transfer_* (init: run, from_run: kinetics400/{model}/f32)"
            ),
        )
    ok, groups = table4_runs(rows)
    if ok.empty:
        return Table(
            "table4", title, missing=_waiting(results, results["run_id"].isin(rows["run_id"]), "")
        )
    tidy = _tidy(
        ok,
        ["dataset", "source_dataset", "source_run", "arch", "backbone", "tp", "sampling", "frames"],
    )
    tidy["Model"] = [model_label(r.arch, r.backbone, r.tp, r.sampling) for r in tidy.itertuples()]
    tidy["Pretrained on"] = (
        tidy["source_dataset"]
        + " (f"
        + tidy["source_run"].map(lambda s: str(parse_run_id(s)["frames"]))
        + ")"
    )
    tidy["f"] = tidy["frames"].map(lambda f: f"f={f}")
    frame = _display(tidy, ["Model", "Pretrained on", "f"], ["dataset", "level"])
    frame.index.names = ["Model", "Pretrained on", "Frames"]
    frame.columns.names = ["Target dataset", "level"]
    notes = [
        "Runs whose init is the final checkpoint of a run on another dataset "
        "(run_protocol: init kind checkpoint), fine-tuned on the target dataset."
    ]
    return Table(
        "table4",
        title,
        frame,
        tidy.drop(columns=["Model", "Pretrained on", "f"]),
        notes,
        _flags(protocols, groups),
    )


# --------------------------------------------------------------------------- Table 10


MODEL_KEYS = ["arch", "backbone", "tp", "tam_locations"]


def table10_models(profiled: pd.DataFrame) -> pd.DataFrame:
    """Selection for Table 10 (pure): one row per model and frame count of the grid, in table
    order (backbone, module, tp, frames), with its profiled ``params``, ``gflops`` and the input
    ``size`` profiled at (NaN where not profiled). Runs of one model differing only in dataset or
    sampling are one row: the network is the same. ``profiled``: ``efficiency.attach_profiles``.
    Kept apart from ``table10`` so the numbers can be checked without the formatting."""
    models = profiled.drop_duplicates(MODEL_KEYS + ["sampling", "frames"])
    models = _order(
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


# --------------------------------------------------------------------------- Table 8


ACCURACY_SUFFIX = " top-1"  # table8_rows' accuracy columns: "<dataset> <level> top-1"


def table8_rows(
    bench: pd.DataFrame,
    profiles: pd.DataFrame,
    results: pd.DataFrame,
    run_inputs: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Selection for Table 8 (pure): each benchmark row (``efficiency.load_benchmarks``) with
    the numbers put next to it, and the consistency flags of the rows.

    Added to the benchmark's own columns: ``gflops`` (float, NaN where not profiled; the
    profile at the row's input size, else the last one) and ``profiled`` (a profile of the
    model exists); ``<dataset> <level> top-1`` (float) for every dataset with an evaluated run
    of the same model and frames (uniform sampling preferred); ``input_size_mismatch`` on a
    row whose GFLOPs or accuracy were measured at another input size than its speed, saying
    which in words (``run_inputs``: run id -> the input size it was trained at). Kept apart
    from ``table8`` so the numbers can be checked (and written as CSV) without the
    formatting."""
    run_inputs = run_inputs or {}
    if bench.empty:
        return pd.DataFrame(), []
    ok = _ok(results)
    rows = []
    datasets = sorted(ok["dataset"].unique())
    for _, b in bench.iterrows():
        prof = (
            profiles[
                (profiles["arch"] == b["arch"])
                & (profiles["backbone"] == b["backbone"])
                & (profiles["tp"] == bool(b["tp"]))
                & (profiles["frames"] == b["frames"])
                & (profiles["tam_locations"] == "all")
            ]
            if not profiles.empty
            else profiles
        )
        mismatch = []
        if not prof.empty and pd.notna(b["size"]):
            same = prof[prof["size"] == b["size"]]
            if same.empty:  # only profiled at another size: shown, and flagged on the row
                mismatch.append(f"GFLOPs at {fmt(prof['size'].iloc[-1])} px")
            prof = same if not same.empty else prof
        row = {
            **b.to_dict(),
            "gflops": float(prof["gflops"].iloc[-1]) if not prof.empty else math.nan,
            "profiled": not prof.empty,
        }
        for d in datasets:
            match = ok[
                (ok["dataset"] == d)
                & (ok["arch"] == b["arch"])
                & (ok["backbone"] == b["backbone"])
                & (ok["tp"].astype(bool) == bool(b["tp"]))
                & (ok["frames"] == b["frames"])
                & (ok["tam_locations"] == "all")
            ]
            if match.empty:
                continue
            match = match.sort_values("sampling", key=lambda s: s != "uniform")
            for level, col in LEVELS.items():
                row[f"{d} {level}{ACCURACY_SUFFIX}"] = match[col].iloc[0]
            trained = run_inputs.get(match["run_id"].iloc[0])
            if trained is not None and (pd.isna(b["size"]) or int(trained) != int(b["size"])):
                mismatch.append(f"{d}: accuracy at {trained} px")
        if mismatch:
            row["input_size_mismatch"] = "; ".join(mismatch)
        rows.append(row)
    tidy = pd.DataFrame(rows)
    flags = []
    for mode, grp in bench.groupby("mode"):
        for col, label in (
            ("device", "device"),
            ("torch", "torch version"),
            ("threads", "CPU threads"),
            ("size", "input size"),
        ):
            values = grp[col].dropna().astype(str).unique()
            if len(values) > 1:
                flags.append(f"{mode}: {label} differs between rows — {', '.join(values)}")
        if grp["batch_size"].nunique() > 1 and grp["max_batch_size"].isna().all():
            flags.append(
                f"{mode}: batch size differs between rows "
                f"({', '.join(str(v) for v in grp['batch_size'].unique())}) and no "
                "row measured its maximum batch; throughput depends on batch size"
            )
    if "input_size_mismatch" in tidy.columns:
        n = int(tidy["input_size_mismatch"].notna().sum())
        flags.append(
            f"{n} row(s) put numbers measured at different input sizes side by side "
            "(column '⚠ input size')"
        )
    return tidy, flags


def table8(
    bench: pd.DataFrame,
    profiles: pd.DataFrame,
    results: pd.DataFrame,
    inputs: str,
    run_inputs: Mapping[str, object] | None = None,
) -> Table:
    """Speed and memory (``actionbench benchmark`` results) next to accuracy and FLOPs.

    Each row says the input size and device it was measured at; accuracy from runs trained at
    another input size (``run_inputs``: run id -> input_size) is flagged on that row."""
    title = "Table 8 — speed and memory"
    if bench.empty:
        return Table(
            "table8",
            title,
            missing=(
                f"no model benchmark results ({inputs}); write them with `actionbench benchmark "
                "--arch A --backbone B --frames F --batch-size N --mode both --json --out "
                "<reports>/benchmarks/<model>-f<F>.json`"
            ),
        )
    tidy, flags = table8_rows(bench, profiles, results, run_inputs)
    # accuracy and mismatch columns, in the order the rows first have them (every row gets
    # each of them, so the display keeps that order)
    extra = [c for c in tidy.columns if c.endswith(ACCURACY_SUFFIX) or c == "input_size_mismatch"]
    rows = []
    for _, r in tidy.iterrows():
        row = {
            "Model": model_label(r["arch"], r["backbone"], r["tp"]),
            "Frames": r["frames"],
            "Mode": r["mode"],
            "Device": r["device"],
            "Input (px)": fmt(r["size"]) if pd.notna(r["size"]) else "unknown",
            "Batch": fmt(r["batch_size"]),
            "Step (ms)": fmt(r["step_ms"]),
            "Throughput (clips/s)": fmt(r["clips_per_s"], 2),
            "Peak memory (GiB)": fmt(r["peak_mem_bytes"] / 2**30, 2)
            if pd.notna(r["peak_mem_bytes"])
            else DASH,
            "Max batch": fmt(r["max_batch_size"]) if pd.notna(r["max_batch_size"]) else DASH,
            "GFLOPs": fmt(r["gflops"]) if r["profiled"] else "not profiled",
        }
        for c in extra:
            if c != "input_size_mismatch":
                row[c] = fmt(r[c])
            else:
                row["⚠ input size"] = (
                    f"speed at {fmt(r['size'])} px, {r[c]}: not comparable"
                    if pd.notna(r[c])
                    else DASH
                )
        rows.append(row)
    frame = pd.DataFrame(rows).fillna(DASH).set_index(["Model", "Frames", "Mode"])
    sizes = ", ".join(f"{s} px" for s in sorted({fmt(v) for v in tidy["size"].dropna()}))
    devices = ", ".join(sorted(tidy["device"].dropna().astype(str).unique()))
    notes = [
        f"Measured at input {sizes or 'unknown size'} on {devices or 'an unknown device'} "
        "(each row: columns Input and Device). "
        "Throughput = batch / median step time; peak memory = CUDA max allocated on GPUs, "
        "peak resident set size on CPU. Accuracy columns: the run with the same model and "
        f"frames (uniform sampling preferred); a row whose accuracy comes from another input "
        f"size says so in '⚠ input size'. Source: {inputs}."
    ]
    return Table("table8", title, frame, tidy, notes, flags)


# --------------------------------------------------------------------------- protocol

INIT_COLUMN = "initial tensors (loaded / inflated / new)"


def init_counts(result: Mapping) -> str:
    """``loaded / inflated / new`` of a results row, or a dash when not recorded."""
    values = [result.get(f"init_{k}") for k in INIT_COUNTS]
    if any(v is None or pd.isna(v) for v in values):
        return DASH
    return " / ".join(str(int(v)) for v in values)


def protocol_table(results: pd.DataFrame, protocols: Mapping[str, dict]) -> Table:
    """The factors fairness is judged on, one row per run, and where its initial tensors
    came from (``init_*`` columns of the results, from train_metrics.json)."""
    rows = []
    for _, result in results.iterrows():
        rec = protocols.get(result["run_id"])
        if rec:
            row = {"run": result["run_id"]}
            for k, v in rec.items():
                if k not in ("backbone", "frames"):
                    row[fairness.FACTORS[k]] = v
                if k == "weights":
                    row[INIT_COLUMN] = init_counts(result)
            rows.append(row)
    frame = pd.DataFrame(rows).set_index("run") if rows else None
    return Table(
        "protocol",
        "Protocol of each run",
        frame,
        frame.reset_index() if frame is not None else None,
        [
            "From each run's saved config.json (params.yaml for runs not trained yet). "
            "Pretraining reads left to right: the initial weights, then each run "
            "whose final checkpoint was loaded.",
            "Initial tensors (loaded / inflated / new): how many tensors of the model were "
            "copied from the initial weights, inflated from 2D kernels, and left at their "
            "initialisation (what the architecture adds to the backbone, a replaced classifier; "
            f"all of them from scratch), from train_metrics.json; {DASH} when not trained yet "
            "or trained before the counts were recorded.",
        ],
    )
