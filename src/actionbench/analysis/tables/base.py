"""What every table builder shares: the ``Table`` it returns, number formatting, the paper's
module and backbone order, and the steps from result rows to a display frame (tidy long form,
pivot to formatted strings, stable ordering, fairness flags, why a table is empty)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from actionbench.analysis import fairness
from actionbench.spec import BACKBONE_LABELS, BACKBONES

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


def fmt(value, decimals: int = 1) -> str:
    if value is None:
        return DASH
    if isinstance(value, float):
        if math.isnan(value):
            return DASH
        return f"{value:.{decimals}f}"
    return str(value)


P_FLOOR = 0.001  # p-values below it read "< 0.001": the tests' precision says no more


def fmt_p(p) -> str:
    """The one way the report writes a p-value: three decimals, "< 0.001" below that."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return DASH
    return f"< {P_FLOOR:g}" if p < P_FLOOR else f"{p:.3f}"


def arch_key(arch: str) -> int:
    return ARCH_ORDER.index(arch) if arch in ARCH_ORDER else len(ARCH_ORDER)


def backbone_key(backbone: str) -> int:
    return BACKBONES.index(backbone) if backbone in BACKBONES else len(BACKBONES)


def frames_label(frames) -> str:
    """How the tables write a frame count: ``f=8``."""
    return f"f={frames}"


def backbone_label(backbone: str) -> str:
    return BACKBONE_LABELS.get(backbone, backbone)


def group_name(dataset: str, backbone: str, frames) -> str:
    """The name of a group of runs compared at one dataset, backbone and frame count (the
    fairness flags start with it): ``mini-ssv2, ResNet50, f=8``."""
    return f"{dataset}, {backbone_label(backbone)}, {frames_label(frames)}"


def evaluated(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["status"] == "ok"]


def tidy_top1(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
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


def waiting_for(results: pd.DataFrame, mask: pd.Series, hint: str) -> str:
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


def fairness_flags(protocols, groups, studied=()) -> list[str]:
    return [f.message() for f in fairness.group_flags(protocols, groups, studied)]


def display_frame(
    tidy: pd.DataFrame, index: list[str], columns: list[str], decimals=1
) -> pd.DataFrame:
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


def order_rows(frame: pd.DataFrame, by: list[tuple[str, object]]) -> pd.DataFrame:
    """Sort rows by (column, key function or None) pairs."""
    keys = []
    cols = []
    for col, key in by:
        tmp = f"__{col}"
        frame = frame.assign(**{tmp: frame[col].map(key) if key else frame[col]})
        keys.append(tmp)
        cols.append(tmp)
    return frame.sort_values(keys, kind="stable").drop(columns=cols)
