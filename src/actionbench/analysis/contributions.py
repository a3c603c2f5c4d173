"""Spatial and temporal contributions of a spatio-temporal module (paper, Section 6.3, Table 7).

For a model a with accuracy S_a and its TSN counterpart (same backbone, frames, dataset, no
temporal modelling) with accuracy S_TSN, both in percent:

    Phi_a = S_TSN / max(S_a, S_TSN)            -- how much of a's accuracy spatial modelling explains
    Psi_a = (S_a - S_TSN) / (100 - S_TSN)       -- how much of the headroom temporal modelling wins

The paper averages both over backbones and frame counts per module (and per tp setting).
A model without a TSN counterpart is reported as such, never paired with a guess.
"""

from __future__ import annotations

import math

import pandas as pd

PAIR_KEYS = ("dataset", "backbone", "frames", "sampling")


def phi(s_a: float, s_tsn: float) -> float:
    denominator = max(s_a, s_tsn)
    return math.nan if denominator <= 0 else s_tsn / denominator


def psi(s_a: float, s_tsn: float) -> float:
    if s_tsn >= 100.0:
        return math.nan
    return (s_a - s_tsn) / (100.0 - s_tsn)


def pair_with_tsn(results: pd.DataFrame, metric: str = "clip_top1") -> pd.DataFrame:
    """Each non-TSN row with its TSN counterpart's accuracy and its Phi/Psi.

    The TSN counterpart is always the model *without* temporal pooling: Psi^{ta+tp} measures
    what temporal aggregation plus pooling adds over plain TSN, as in the paper.
    """
    ok = results[(results["status"] == "ok") & results[metric].notna()]
    tsn = ok[(ok["arch"] == "tsn") & (~ok["tp"].astype(bool))]
    tsn_acc = {tuple(r[k] for k in PAIR_KEYS): r[metric] for _, r in tsn.iterrows()}
    rows = []
    for _, r in ok[ok["arch"] != "tsn"].iterrows():
        key = tuple(r[k] for k in PAIR_KEYS)
        s_tsn = tsn_acc.get(key)
        rows.append(
            {
                "run_id": r["run_id"],
                "dataset": r["dataset"],
                "arch": r["arch"],
                "backbone": r["backbone"],
                "frames": r["frames"],
                "tp": bool(r["tp"]),
                "s_a": r[metric],
                "s_tsn": s_tsn,
                "phi": phi(r[metric], s_tsn) if s_tsn is not None else math.nan,
                "psi": psi(r[metric], s_tsn) if s_tsn is not None else math.nan,
                "tsn_missing": s_tsn is None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "run_id", "dataset", "arch", "backbone", "frames", "tp",
            "s_a", "s_tsn", "phi", "psi", "tsn_missing",
        ],
    )


def contribution_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """Table 7: mean Phi (no tp), Psi^{ta} (no tp) and Psi^{ta+tp} per dataset and module."""
    have = pairs[~pairs["tsn_missing"]]
    rows = []
    for (dataset, arch), grp in have.groupby(["dataset", "arch"], sort=True):
        no_tp, with_tp = grp[~grp["tp"]], grp[grp["tp"]]
        rows.append(
            {
                "dataset": dataset,
                "arch": arch,
                "phi": no_tp["phi"].mean() if len(no_tp) else math.nan,
                "psi_ta": no_tp["psi"].mean() if len(no_tp) else math.nan,
                "psi_ta_tp": with_tp["psi"].mean() if len(with_tp) else math.nan,
                "n_models": len(grp),
            }
        )
    return pd.DataFrame(
        rows, columns=["dataset", "arch", "phi", "psi_ta", "psi_ta_tp", "n_models"]
    )
