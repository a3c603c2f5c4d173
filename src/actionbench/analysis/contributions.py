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

A pair must differ in the module alone. The counterpart is looked up by dataset, layout,
backbone, frames and sampling (so a reference-layout TAM never meets a ``-paper`` TSN, and each
layout gets its own rows), and, when the runs' protocols are given (``fairness.protocol_record``),
every factor the pairwise comparisons flag must be equal too: input size, pretraining and weights,
epochs, optimiser, schedule, evaluation clips x crops, normalisation, ... A counterpart that
differs is refused (``tsn_mismatch`` says how) rather than averaged. The code version is the one
exception: it is recorded beside each run and flagged under the table, but code changes re-run
nothing (docs/reruns.md), so runs of one study legitimately span commits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from actionbench.analysis import fairness

PAIR_KEYS = ("dataset", "layout", "backbone", "frames", "sampling")
# Protocol factors a model and its TSN counterpart may differ in (flagged under the table, not
# refused): code changes re-run nothing, so one study's runs may span several commits.
UNPAIRED_FACTORS = ("code",)
DEFAULTS = {"sampling": "uniform", "layout": "reference"}
PAIR_COLUMNS = [
    "run_id",
    "tsn_run_id",
    "dataset",
    "layout",
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
    "tsn_mismatch",
]
TABLE_COLUMNS = [
    "dataset",
    "layout",
    "sampling",
    "arch",
    "phi",
    "psi_ta",
    "psi_ta_tp",
    "n_phi",
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


def _with_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column, value in DEFAULTS.items():
        frame[column] = frame[column].fillna(value) if column in frame else value
    return frame


def protocol_mismatch(
    run_id: str, tsn_run_id: str, protocols: Mapping[str, Mapping[str, str]] | None
) -> str:
    """How a model's protocol differs from its TSN counterpart's ("" when they may be paired)."""
    if protocols is None:
        return ""
    a, b = protocols.get(run_id), protocols.get(tsn_run_id)
    if a is None or b is None:
        missing = run_id if a is None else tsn_run_id
        return f"no protocol record for {missing}"
    return "; ".join(str(d) for d in fairness.differences(a, b, UNPAIRED_FACTORS))


def pair_with_tsn(
    results: pd.DataFrame,
    metric: str = "clip_top1",
    protocols: Mapping[str, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """Each non-TSN row with its TSN counterpart's accuracy and its Phi/Psi.

    The TSN counterpart is always the model *without* temporal pooling: Psi^{ta+tp} measures
    what temporal aggregation plus pooling adds over plain TSN, as in the paper. It must share
    the model's ``PAIR_KEYS`` and, with ``protocols`` (run id -> ``fairness.protocol_record``),
    every protocol factor but the code version; a counterpart that differs is refused and named
    in ``tsn_mismatch`` ("<tsn run>: input size: 224px ... vs 112px ...").
    """
    frame = _with_defaults(results)
    ok = _module_rows(frame[(frame["status"] == "ok") & frame[metric].notna()])
    tsn = ok[(ok["arch"] == "tsn") & (~ok["tp"].astype(bool))]
    tsn_rows = {tuple(r[k] for k in PAIR_KEYS): r for _, r in tsn.iterrows()}
    rows = []
    for _, r in ok[ok["arch"] != "tsn"].iterrows():
        counterpart = tsn_rows.get(tuple(r[k] for k in PAIR_KEYS))
        mismatch = ""
        if counterpart is not None:
            mismatch = protocol_mismatch(r["run_id"], counterpart["run_id"], protocols)
            if mismatch:
                mismatch = f"{counterpart['run_id']}: {mismatch}"
                counterpart = None
        s_tsn = None if counterpart is None else float(counterpart[metric])
        rows.append(
            {
                "run_id": r["run_id"],
                "tsn_run_id": None if counterpart is None else counterpart["run_id"],
                "dataset": r["dataset"],
                "layout": r["layout"],
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
                "tsn_mismatch": mismatch,
            }
        )
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def contribution_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """Table 7: mean Phi (no tp), Psi^{ta} (no tp) and Psi^{ta+tp} per dataset, layout, sampling
    and module.

    ``n_phi``/``n_ta``/``n_ta_tp``: how many (backbone, frames) pairs each mean actually averages
    (Eq. 2's Z): Psi is undefined where S_TSN = 100 (no headroom), so such a pair counts for Phi
    but not for Psi. ``n_models``: the models with a counterpart.
    """
    if pairs.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    have = _with_defaults(pairs[~pairs["tsn_missing"].astype(bool)])
    rows = []
    keys = ["dataset", "layout", "sampling", "arch"]
    for (dataset, layout, sampling, arch), grp in have.groupby(keys, sort=True):
        no_tp, with_tp = grp[~grp["tp"].astype(bool)], grp[grp["tp"].astype(bool)]
        rows.append(
            {
                "dataset": dataset,
                "layout": layout,
                "sampling": sampling,
                "arch": arch,
                "phi": no_tp["phi"].mean() if len(no_tp) else math.nan,
                "psi_ta": no_tp["psi"].mean() if len(no_tp) else math.nan,
                "psi_ta_tp": with_tp["psi"].mean() if len(with_tp) else math.nan,
                "n_phi": int(no_tp["phi"].notna().sum()),
                "n_ta": int(no_tp["psi"].notna().sum()),
                "n_ta_tp": int(with_tp["psi"].notna().sum()),
                "n_models": len(grp),
            }
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)
