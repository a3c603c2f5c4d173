"""Phi/Psi (paper, Section 6.3) against hand-computed values and the paper's own numbers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from actionbench.analysis.contributions import contribution_table, pair_with_tsn, phi, psi


def test_phi_psi_by_hand():
    assert phi(60.0, 30.0) == pytest.approx(0.5)
    assert psi(60.0, 30.0) == pytest.approx(30.0 / 70.0)
    # a model worse than TSN: Phi saturates at 1, Psi goes negative
    assert phi(20.0, 30.0) == 1.0
    assert psi(20.0, 30.0) == pytest.approx(-10.0 / 70.0)
    assert math.isnan(psi(90.0, 100.0))


def _rows(dataset, values):
    rows = []
    for (arch, frames), acc in values.items():
        rows.append({"run_id": f"{dataset}/{arch}-resnet50/f{frames}", "dataset": dataset,
                     "arch": arch, "backbone": "resnet50", "frames": frames, "sampling": "uniform",
                     "tp": False, "status": "ok", "clip_top1": acc})
    return rows


def test_paper_table10_numbers_give_table7_direction():
    # Table 10, ResNet50 (None = TSN): Mini-SSV2 and Mini-Kinetics, f=8 and f=16
    ssv2 = {("tsn", 8): 33.9, ("tsn", 16): 35.3, ("i3d", 8): 62.6, ("i3d", 16): 66.2,
            ("tam", 8): 65.4, ("tam", 16): 68.6}
    kin = {("tsn", 8): 72.1, ("tsn", 16): 72.5, ("i3d", 8): 73.3, ("i3d", 16): 75.5,
           ("tam", 8): 74.1, ("tam", 16): 76.4}
    results = pd.DataFrame(_rows("mini-ssv2", ssv2) + _rows("mini-kinetics", kin))
    table = contribution_table(pair_with_tsn(results)).set_index(["dataset", "arch"])
    # by hand: TAM on Mini-SSV2, f8: Phi = 33.9/65.4, Psi = (65.4-33.9)/(100-33.9)
    expected_phi = (33.9 / 65.4 + 35.3 / 68.6) / 2
    expected_psi = ((65.4 - 33.9) / 66.1 + (68.6 - 35.3) / 64.7) / 2
    assert table.loc[("mini-ssv2", "tam"), "phi"] == pytest.approx(expected_phi)
    assert table.loc[("mini-ssv2", "tam"), "psi_ta"] == pytest.approx(expected_psi)
    # Table 7's direction: spatial modelling dominates on Kinetics, much less so on SSV2 ...
    for arch in ("tam", "i3d"):
        assert table.loc[("mini-kinetics", arch), "phi"] > table.loc[("mini-ssv2", arch), "phi"]
        assert table.loc[("mini-kinetics", arch), "phi"] > 0.9
        assert table.loc[("mini-ssv2", arch), "phi"] < 0.6
        # ... and temporal modelling wins a larger share of the headroom on SSV2
        assert table.loc[("mini-ssv2", arch), "psi_ta"] > table.loc[("mini-kinetics", arch), "psi_ta"]
    assert math.isnan(table.loc[("mini-ssv2", "tam"), "psi_ta_tp"])


def test_missing_tsn_counterpart_is_reported_not_guessed():
    results = pd.DataFrame(_rows("mini-ssv2", {("tam", 8): 60.0, ("tsn", 16): 30.0}))
    pairs = pair_with_tsn(results)
    assert bool(pairs.loc[0, "tsn_missing"]) and math.isnan(pairs.loc[0, "phi"])
    assert contribution_table(pairs).empty
