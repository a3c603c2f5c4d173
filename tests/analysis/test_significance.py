"""Paired bootstrap and McNemar against hand-computed cases; pair selection and direction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from actionbench.analysis import comparisons
from actionbench.analysis.significance import (
    align_predictions,
    compare_level,
    holm,
    mcnemar,
    paired_bootstrap,
)


def test_identical_predictions_p_one_and_ci_zero():
    right = np.array([True] * 30 + [False] * 10)
    test = mcnemar(right, right)
    assert (test.b, test.c, test.p_value) == (0, 0, 1.0)
    ci = paired_bootstrap(right, right, resamples=1000, seed=0)
    assert (ci.diff, ci.low, ci.high) == (0.0, 0.0, 0.0)


def test_mcnemar_exact_by_hand():
    # A right / B wrong on 1 video, the reverse on 7: p = 2 * P(X <= 1 | n=8, 1/2) = 18/256
    a = np.array([True] * 1 + [False] * 7 + [True] * 20)
    b = np.array([False] * 1 + [True] * 7 + [True] * 20)
    test = mcnemar(a, b)
    assert (test.b, test.c, test.method) == (1, 7, "exact")
    assert test.p_value == pytest.approx(18 / 256)


def test_mcnemar_chi2_by_hand_and_auto_switch():
    a = np.array([True] * 30 + [False] * 10 + [True] * 50)
    b = np.array([False] * 30 + [True] * 10 + [True] * 50)
    test = mcnemar(a, b)  # 40 discordant videos: chi-square with continuity correction
    assert test.method == "chi2"
    assert test.statistic == pytest.approx((30 - 10 - 1) ** 2 / 40)
    assert test.p_value == pytest.approx(stats.chi2.sf(19**2 / 40, 1))
    assert test.p_value < 0.01
    assert mcnemar(a, b, method="exact").p_value == pytest.approx(
        stats.binomtest(30, 40, 0.5).pvalue
    )


def test_clear_winner_is_significant_and_ci_excludes_zero():
    a = np.ones(100, dtype=bool)
    b = np.array([True, False] * 50)
    assert mcnemar(a, b).p_value < 0.05
    ci = paired_bootstrap(a, b, resamples=1000, seed=0)
    assert ci.diff == pytest.approx(50.0)
    assert 0 < ci.low < 50 < ci.high


def test_small_gap_is_not_significant():
    # "TAM beats TSM by 0.3": 1000 videos; both right on 680, both wrong on 271, only A right
    # on 26, only B right on 23 -> A 70.6 %, B 70.3 %
    a = np.array([True] * 680 + [False] * 271 + [True] * 26 + [False] * 23)
    b = np.array([True] * 680 + [False] * 271 + [False] * 26 + [True] * 23)
    test = mcnemar(a, b)
    assert test.method == "chi2" and test.statistic == pytest.approx(4 / 49)
    assert test.p_value > 0.05
    ci = paired_bootstrap(a, b, seed=0)
    assert ci.diff == pytest.approx(0.3)
    assert ci.low < 0 < ci.high


def test_bootstrap_is_seeded_and_matches_index_resampling():
    rng = np.random.default_rng(1)
    a = rng.random(200) < 0.7
    b = rng.random(200) < 0.6
    one, two = paired_bootstrap(a, b, seed=3), paired_bootstrap(a, b, seed=3)
    assert (one.low, one.high) == (two.low, two.high)
    # the count-based draw has the distribution of resampling video indices
    idx = np.random.default_rng(7).integers(0, 200, size=(4000, 200))
    naive = 100 * (a[idx].mean(axis=1) - b[idx].mean(axis=1))
    low, high = np.percentile(naive, [2.5, 97.5])
    wide = paired_bootstrap(a, b, resamples=4000, seed=7)
    assert wide.low == pytest.approx(low, abs=1.0)
    assert wide.high == pytest.approx(high, abs=1.0)


def test_holm_by_hand():
    adjusted = holm([0.01, 0.04, 0.03, np.nan])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(adjusted[3])


# Results of the hand-written McNemar (binomtest / corrected chi-square formula) and Holm
# (step-down loop) this module used before it called statsmodels, and of its bootstrap, on the
# same data: (b only-A-right, c only-B-right, both right) ->
# (exact p, chi2 statistic, chi2 p). The library versions must reproduce them.
HAND_WRITTEN_MCNEMAR = [
    ((1, 7, 20), (0.0703125, 3.125, 0.07709987174354202)),
    ((30, 10, 50), (0.0022214337732293643, 9.025, 0.002663119259138558)),
    ((26, 23, 951), (0.7754496546815659, 0.08163265306122448, 0.7750969621959847)),
    ((12, 12, 40), (1.0, 0.0, 1.0)),
    ((0, 5, 10), (0.0625, 3.2, 0.07363827012030258)),
    ((40, 3, 100), (3.0213413992896676e-09, 30.13953488372093, 4.020508809874526e-08)),
]
HAND_WRITTEN_HOLM = ([0.01, 0.04, 0.03, np.nan, 0.2, 0.005], [0.04, 0.09, 0.09, np.nan, 0.2, 0.025])
# 300 videos (rng seed 1, A right w.p. 0.7, B w.p. 0.55), 20000 resamples, seed 0
HAND_WRITTEN_BOOTSTRAP = (13.333333333333334, 5.666666666666667, 21.333333333333332)


@pytest.mark.parametrize(("counts", "expected"), HAND_WRITTEN_MCNEMAR)
def test_library_mcnemar_matches_the_hand_written_one(counts, expected):
    b, c, both = counts
    a = np.array([True] * b + [False] * c + [True] * both)
    other = np.array([False] * b + [True] * c + [True] * both)
    exact_p, statistic, chi2_p = expected
    exact, chi2 = mcnemar(a, other, "exact"), mcnemar(a, other, "chi2")
    assert exact.p_value == pytest.approx(exact_p, rel=1e-9)
    assert chi2.statistic == pytest.approx(statistic, rel=1e-9)
    assert chi2.p_value == pytest.approx(chi2_p, rel=1e-9)


def test_mcnemar_comes_from_statsmodels():
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

    a = np.array([True] * 30 + [False] * 10 + [True] * 50)
    b = np.array([False] * 30 + [True] * 10 + [True] * 50)
    ours = mcnemar(a, b, "chi2")
    ref = sm_mcnemar([[50, 30], [10, 0]], exact=False, correction=True)
    assert (ours.statistic, ours.p_value) == (
        pytest.approx(ref.statistic),
        pytest.approx(ref.pvalue),
    )


def test_library_holm_matches_the_hand_written_one():
    raw, expected = HAND_WRITTEN_HOLM
    adjusted = holm(raw)
    assert np.isnan(adjusted[3])
    keep = [0, 1, 2, 4, 5]
    assert adjusted[keep] == pytest.approx(np.asarray(expected)[keep])


def test_bootstrap_keeps_the_hand_written_results_and_agrees_with_scipy():
    rng = np.random.default_rng(1)
    a = rng.random(300) < 0.7
    b = rng.random(300) < 0.55
    diff, low, high = HAND_WRITTEN_BOOTSTRAP
    ci = paired_bootstrap(a, b, resamples=20000, seed=0)
    assert (ci.diff, ci.low, ci.high) == (pytest.approx(diff), low, high)
    # scipy's paired percentile bootstrap resamples videos: the same distribution, so the same
    # quantiles within Monte Carlo error (one video = 1/3 point on 300 videos)
    ref = stats.bootstrap(
        (a.astype(float), b.astype(float)),
        lambda x, y, axis=-1: 100 * (x.mean(axis=axis) - y.mean(axis=axis)),
        paired=True,
        vectorized=True,
        n_resamples=20000,
        method="percentile",
        rng=np.random.default_rng(5),
    ).confidence_interval
    assert ci.low == pytest.approx(ref.low, abs=0.7)
    assert ci.high == pytest.approx(ref.high, abs=0.7)


def test_align_predictions_reports_unshared_videos():
    a = pd.DataFrame({"video_id": ["x", "y", "z"], "label": [0, 1, 2], "clip_pred": [0, 1, 0]})
    b = pd.DataFrame({"video_id": ["y", "z", "w"], "label": [1, 2, 3], "clip_pred": [1, 2, 3]})
    merged, problems = align_predictions(a, b)
    assert len(merged) == 2 and problems == {"only_a": 1, "only_b": 1, "label_mismatch": 0}
    res = compare_level(merged, "clip", resamples=200)
    assert (res.acc_a, res.acc_b, res.n_videos) == (50.0, 100.0, 2)
    assert compare_level(merged, "video") is None  # no video_pred column


def _results(rows):
    base = {
        "dataset": "d",
        "backbone": "resnet18",
        "tp": False,
        "frames": 8,
        "sampling": "uniform",
        "tam_locations": "all",
        "status": "ok",
    }
    return pd.DataFrame([{**base, **r} for r in rows])


def test_candidate_pairs_differ_in_exactly_one_factor_reference_second():
    results = _results(
        [
            {"run_id": "d/tsn-resnet18/f8", "arch": "tsn"},
            {"run_id": "d/tam-resnet18/f8", "arch": "tam"},
            {"run_id": "d/tam-resnet18/f16", "arch": "tam", "frames": 16},
            {"run_id": "d/tam-resnet18-tp/f8", "arch": "tam", "tp": True},
            {"run_id": "d/tsm-resnet50/f16", "arch": "tsm", "backbone": "resnet50", "frames": 16},
            {"run_id": "d/tam-resnet18/f32", "arch": "tam", "frames": 32, "status": "not trained"},
        ]
    )
    pairs = comparisons.candidate_pairs(results)
    assert pairs == [
        ("arch", "d/tam-resnet18/f8", "d/tsn-resnet18/f8"),
        ("tp", "d/tam-resnet18-tp/f8", "d/tam-resnet18/f8"),
        ("frames", "d/tam-resnet18/f16", "d/tam-resnet18/f8"),
    ]


def test_pairwise_rows_with_and_without_predictions():
    results = _results(
        [
            {"run_id": "d/tsn-resnet18/f8", "arch": "tsn"},
            {"run_id": "d/tam-resnet18/f8", "arch": "tam"},
            {"run_id": "d/tsm-resnet18/f8", "arch": "tsm"},
        ]
    )
    labels = np.arange(40) % 4
    good = pd.DataFrame(
        {
            "video_id": [str(i) for i in range(40)],
            "label": labels,
            "clip_pred": labels,
            "video_pred": labels,
        }
    )
    half = good.assign(clip_pred=np.where(np.arange(40) % 2 == 0, labels, (labels + 1) % 4))
    preds = {"d/tsn-resnet18/f8": half, "d/tam-resnet18/f8": good, "d/tsm-resnet18/f8": None}
    frame = comparisons.pairwise(results, preds, {}, resamples=200)
    tam_tsn = frame[
        (frame["run_a"] == "d/tam-resnet18/f8") & (frame["run_b"] == "d/tsn-resnet18/f8")
    ]
    clip = tam_tsn[tam_tsn["level"] == "clip"].iloc[0]
    video = tam_tsn[tam_tsn["level"] == "video"].iloc[0]
    assert clip["diff"] == pytest.approx(50.0) and bool(clip["significant"])
    assert video["diff"] == 0.0 and video["p_value"] == 1.0 and not video["significant"]
    tsm = frame[frame["run_a"] == "d/tsm-resnet18/f8"]
    assert len(tsm) == 4 and tsm["note"].str.contains("no eval/predictions.csv").all()
    table = comparisons.as_table(frame)
    assert table.shown and ("clip", "95% CI") in table.frame.columns
