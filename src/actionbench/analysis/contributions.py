"""Spatial and temporal contributions of a spatio-temporal module (paper, Section 6.3, Table 7).

For a model of architecture a on backbone b with k input frames, S_a^b(k) its accuracy and
S_TSN^b(k) that of its TSN counterpart *without temporal pooling* (same dataset, backbone,
frames and sampling: the paper's baseline spatial model), both in percent (Eq. 1):

    Phi_a^b = S_TSN^b / max(S_a^b, S_TSN^b)          in [0, 1]: the share spatial modelling explains
    Psi_a^b = (S_a^b - S_TSN^b) / (100 - S_TSN^b)    the share of TSN's headroom temporal modelling
                                                     wins (< 0: temporal modelling hurts)

Eq. 2 averages them over every backbone b and frame count k for which both runs exist
(Z = the number of such pairs). Table 7 reports, per dataset and module:
Phi-bar and Psi-bar^{ta} of the models without temporal pooling (temporal aggregation only)
and Psi-bar^{ta+tp} of the models *with* temporal pooling, still against TSN without it.
Only the module as defined enters (TAM in every block: the Table 6 location variants are other
models). A model without a TSN counterpart is reported as such, never paired with a guess.
"""

from __future__ import annotations

import math

import pandas as pd

PAIR_KEYS = ("dataset", "backbone", "frames", "sampling")
PAIR_COLUMNS = [
    "run_id",
    "tsn_run_id",
    "dataset",
    "sampling",
    "arch",
    "backbone",
    "frames",
    "tp",
    "s_a",
    "s_tsn",
    "phi",
    "psi",
    "tsn_missing",
]
TABLE_COLUMNS = [
    "dataset",
    "sampling",
    "arch",
    "phi",
    "psi_ta",
    "psi_ta_tp",
    "n_ta",
    "n_ta_tp",
    "n_models",
]


def phi(s_a: float, s_tsn: float) -> float:
    denominator = max(s_a, s_tsn)
    return math.nan if denominator <= 0 else s_tsn / denominator


def psi(s_a: float, s_tsn: float) -> float:
    if s_tsn >= 100.0:
        return math.nan
    return (s_a - s_tsn) / (100.0 - s_tsn)


def _module_rows(frame: pd.DataFrame) -> pd.DataFrame:
    if "tam_locations" in frame:
        frame = frame[frame["tam_locations"].fillna("all") == "all"]
    return frame


def pair_with_tsn(results: pd.DataFrame, metric: str = "clip_top1") -> pd.DataFrame:
    """Each non-TSN row with its TSN counterpart's accuracy and its Phi/Psi.

    The TSN counterpart is always the model *without* temporal pooling: Psi^{ta+tp} measures
    what temporal aggregation plus pooling adds over plain TSN, as in the paper.
    """
    frame = results.copy()
    if "sampling" not in frame:
        frame["sampling"] = "uniform"
    ok = _module_rows(frame[(frame["status"] == "ok") & frame[metric].notna()])
    tsn = ok[(ok["arch"] == "tsn") & (~ok["tp"].astype(bool))]
    tsn_rows = {tuple(r[k] for k in PAIR_KEYS): r for _, r in tsn.iterrows()}
    rows = []
    for _, r in ok[ok["arch"] != "tsn"].iterrows():
        counterpart = tsn_rows.get(tuple(r[k] for k in PAIR_KEYS))
        s_tsn = None if counterpart is None else float(counterpart[metric])
        rows.append(
            {
                "run_id": r["run_id"],
                "tsn_run_id": None if counterpart is None else counterpart["run_id"],
                "dataset": r["dataset"],
                "sampling": r["sampling"],
                "arch": r["arch"],
                "backbone": r["backbone"],
                "frames": r["frames"],
                "tp": bool(r["tp"]),
                "s_a": float(r[metric]),
                "s_tsn": s_tsn,
                "phi": phi(r[metric], s_tsn) if s_tsn is not None else math.nan,
                "psi": psi(r[metric], s_tsn) if s_tsn is not None else math.nan,
                "tsn_missing": s_tsn is None,
            }
        )
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def contribution_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """Table 7: mean Phi (no tp), Psi^{ta} (no tp) and Psi^{ta+tp} per dataset and module.

    ``n_ta``/``n_ta_tp``: how many (backbone, frames) pairs each mean averages (Eq. 2's Z).
    """
    if pairs.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    have = pairs[~pairs["tsn_missing"].astype(bool)]
    if "sampling" not in have:
        have = have.assign(sampling="uniform")
    rows = []
    for (dataset, sampling, arch), grp in have.groupby(["dataset", "sampling", "arch"], sort=True):
        no_tp, with_tp = grp[~grp["tp"]], grp[grp["tp"]]
        rows.append(
            {
                "dataset": dataset,
                "sampling": sampling,
                "arch": arch,
                "phi": no_tp["phi"].mean() if len(no_tp) else math.nan,
                "psi_ta": no_tp["psi"].mean() if len(no_tp) else math.nan,
                "psi_ta_tp": with_tp["psi"].mean() if len(with_tp) else math.nan,
                "n_ta": len(no_tp),
                "n_ta_tp": len(with_tp),
                "n_models": len(grp),
            }
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)
