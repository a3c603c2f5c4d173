"""Is a gap between two models larger than the noise of a finite validation set?

Both tests are *paired*: the two models were evaluated on the same videos, so what matters is
on how many videos they disagree, not their two accuracies alone. From the saved per-video
predictions (``eval/predictions.csv``) of models A and B:

* McNemar's test on the discordant videos (A right and B wrong: ``b``; A wrong and B right:
  ``c``), from statsmodels (``statsmodels.stats.contingency_tables.mcnemar``): the exact
  version is the two-sided binomial test of ``b`` out of ``b + c``; the chi-square version
  (Edwards' continuity correction) approximates it for many discordant videos.
* A paired percentile bootstrap confidence interval of the accuracy difference (percentage
  points), resampling videos with replacement. The difference of one resample depends only on
  how many drawn videos fall in "only A right" and "only B right", and drawing n videos with
  replacement puts multinomial(n, observed proportions) counts there; drawing those counts
  (numpy's ``multinomial``) is the same bootstrap distribution as
  ``scipy.stats.bootstrap(paired=True, method="percentile")`` — the tests check they agree —
  at O(resamples) instead of O(resamples x videos): 25,000 videos (SSV2's validation set),
  1000 resamples take milliseconds instead of seconds per pair
  (reports/benchmarks/significance.md).
* Holm-Bonferroni adjusted p-values over the pairs of one level
  (``statsmodels.stats.multitest.multipletests``).

McNemar and Holm from the library replaced hand-written ones; tests/analysis/test_significance.py
keeps the hand-written results on the same data as fixtures and checks the library reproduces
them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import mcnemar as _sm_mcnemar
from statsmodels.stats.multitest import multipletests

from actionbench.defaults import REPORT

EXACT_BELOW = 25  # discordant pairs; the usual rule for when the chi-square approximation is poor


@dataclass(frozen=True)
class McNemar:
    """McNemar's test: ``b`` = videos only A gets right, ``c`` = only B."""

    b: int
    c: int
    statistic: float | None  # chi-square statistic (None for the exact test)
    p_value: float
    method: str  # "exact" or "chi2"


@dataclass(frozen=True)
class BootstrapCI:
    """Accuracy difference A - B (percentage points) with a percentile bootstrap interval."""

    diff: float
    low: float
    high: float
    confidence: float
    resamples: int
    seed: int


def _as_bool(values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype != bool:
        arr = arr.astype(bool)
    return arr


def _check_pair(correct_a, correct_b) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_bool(correct_a), _as_bool(correct_b)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"paired tests need two 1-D arrays over the same videos, got {a.shape} and {b.shape}"
        )
    return a, b


def mcnemar(correct_a, correct_b, method: str = "auto") -> McNemar:
    """McNemar's test of equal accuracy on paired per-video correctness.

    ``method``: ``"exact"`` (binomial), ``"chi2"`` (continuity-corrected chi-square, 1 dof) or
    ``"auto"`` (exact when fewer than 25 videos are discordant, chi-square otherwise).
    """
    a, b_ = _check_pair(correct_a, correct_b)
    b = int(np.sum(a & ~b_))
    c = int(np.sum(~a & b_))
    n = b + c
    if method == "auto":
        method = "exact" if n < EXACT_BELOW else "chi2"
    if method not in ("exact", "chi2"):
        raise ValueError(f"method must be 'auto', 'exact' or 'chi2', got {method!r}")
    if b == c:
        # no evidence of any difference (also: no discordant video at all). statsmodels'
        # corrected statistic would be (|0| - 1)^2 / n > 0 here; the correction must not
        # push |b - c| below zero, so the statistic is 0 and p = 1.
        return McNemar(b, c, None if method == "exact" else 0.0, 1.0, method)
    table = [[0, b], [c, 0]]  # only the discordant cells enter the test
    res = _sm_mcnemar(table, exact=method == "exact", correction=True)
    statistic = None if method == "exact" else float(res.statistic)
    return McNemar(b, c, statistic, float(min(1.0, res.pvalue)), method)


def paired_bootstrap(
    correct_a,
    correct_b,
    resamples: int = REPORT["significance"]["resamples"],
    seed: int = REPORT["significance"]["seed"],
    confidence: float = 0.95,
) -> BootstrapCI:
    """Percentile bootstrap CI of accuracy(A) - accuracy(B), in percentage points (seeded)."""
    a, b = _check_pair(correct_a, correct_b)
    n = a.size
    if n == 0:
        raise ValueError("paired bootstrap needs at least one video")
    if resamples < 1 or not 0 < confidence < 1:
        raise ValueError("resamples must be >= 1 and confidence in (0, 1)")
    only_a = int(np.sum(a & ~b))
    only_b = int(np.sum(~a & b))
    diff = 100.0 * (only_a - only_b) / n
    probs = np.array([only_a, only_b, n - only_a - only_b], dtype=float) / n
    counts = np.random.default_rng(seed).multinomial(n, probs, size=resamples)
    diffs = 100.0 * (counts[:, 0] - counts[:, 1]) / n
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(diffs, [tail, 100.0 - tail])
    return BootstrapCI(diff, float(low), float(high), confidence, resamples, seed)


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN): controls the family-wise error rate
    when many pairs are tested at once, as the pairwise section of a large grid does."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = ~np.isnan(p)
    if valid.any():
        out[valid] = multipletests(p[valid], method="holm")[1]
    return out


@dataclass(frozen=True)
class PairedResult:
    """One level (clip or video) of a paired comparison of two models."""

    n_videos: int
    acc_a: float
    acc_b: float
    ci: BootstrapCI
    test: McNemar


def align_predictions(pred_a: pd.DataFrame, pred_b: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Join two prediction tables on ``video_id``; report videos that are not shared.

    A paired test is only meaningful on the same videos with the same labels; anything else
    (different validation lists) is returned in ``problems`` for the fairness flags.
    """
    for name, frame in (("A", pred_a), ("B", pred_b)):
        missing = {"video_id", "label"} - set(frame.columns)
        if missing:
            raise ValueError(f"predictions of model {name} lack columns {sorted(missing)}")
    merged = pred_a.merge(pred_b, on="video_id", suffixes=("_a", "_b"), how="inner")
    problems = {
        "only_a": int(len(pred_a) - len(merged)),
        "only_b": int(len(pred_b) - len(merged)),
        "label_mismatch": int((merged["label_a"] != merged["label_b"]).sum()),
    }
    merged = merged[merged["label_a"] == merged["label_b"]]
    return merged, problems


def compare_level(
    merged: pd.DataFrame,
    level: str,
    resamples: int = REPORT["significance"]["resamples"],
    seed: int = REPORT["significance"]["seed"],
) -> PairedResult | None:
    """Bootstrap + McNemar at ``level`` ("clip" or "video") on aligned predictions."""
    col_a, col_b = f"{level}_pred_a", f"{level}_pred_b"
    if col_a not in merged or col_b not in merged or merged.empty:
        return None
    right_a = (merged[col_a] == merged["label_a"]).to_numpy()
    right_b = (merged[col_b] == merged["label_b"]).to_numpy()
    return PairedResult(
        n_videos=int(right_a.size),
        acc_a=100.0 * float(right_a.mean()),
        acc_b=100.0 * float(right_b.mean()),
        ci=paired_bootstrap(right_a, right_b, resamples=resamples, seed=seed),
        test=mcnemar(right_a, right_b),
    )
