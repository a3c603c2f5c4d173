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
        rows.append(
            {
                "run_id": f"{dataset}/{arch}-resnet50/f{frames}",
                "dataset": dataset,
                "arch": arch,
                "backbone": "resnet50",
                "frames": frames,
                "sampling": "uniform",
                "tp": False,
                "status": "ok",
                "clip_top1": acc,
            }
        )
    return rows


def test_paper_table10_numbers_give_table7_direction():
    # Table 10, ResNet50 (None = TSN): Mini-SSV2 and Mini-Kinetics, f=8 and f=16
    ssv2 = {
        ("tsn", 8): 33.9,
        ("tsn", 16): 35.3,
        ("i3d", 8): 62.6,
        ("i3d", 16): 66.2,
        ("tam", 8): 65.4,
        ("tam", 16): 68.6,
    }
    kin = {
        ("tsn", 8): 72.1,
        ("tsn", 16): 72.5,
        ("i3d", 8): 73.3,
        ("i3d", 16): 75.5,
        ("tam", 8): 74.1,
        ("tam", 16): 76.4,
    }
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
        assert (
            table.loc[("mini-ssv2", arch), "psi_ta"] > table.loc[("mini-kinetics", arch), "psi_ta"]
        )
    assert math.isnan(table.loc[("mini-ssv2", "tam"), "psi_ta_tp"])


def test_missing_tsn_counterpart_is_reported_not_guessed():
    results = pd.DataFrame(_rows("mini-ssv2", {("tam", 8): 60.0, ("tsn", 16): 30.0}))
    pairs = pair_with_tsn(results)
    assert bool(pairs.loc[0, "tsn_missing"]) and math.isnan(pairs.loc[0, "phi"])
    assert contribution_table(pairs).empty


def test_psi_ta_tp_pairs_the_tp_model_with_tsn_without_tp():
    rows = _rows("mini-kinetics", {("tsn", 8): 70.0, ("tam", 8): 76.0})
    rows += [
        {**rows[0], "run_id": "mini-kinetics/tsn-resnet50-tp/f8", "tp": True, "clip_top1": 72.0},
        {**rows[1], "run_id": "mini-kinetics/tam-resnet50-tp/f8", "tp": True, "clip_top1": 67.0},
    ]
    pairs = pair_with_tsn(pd.DataFrame(rows))
    # TSN-tp is the baseline of nobody and never a module row; TAM-tp pairs with plain TSN (70)
    assert set(pairs["run_id"]) == {
        "mini-kinetics/tam-resnet50/f8",
        "mini-kinetics/tam-resnet50-tp/f8",
    }
    table = contribution_table(pairs).set_index("arch")
    assert table.loc["tam", "psi_ta"] == pytest.approx(6.0 / 30.0)
    assert table.loc["tam", "psi_ta_tp"] == pytest.approx(-3.0 / 30.0)  # tp hurts: negative
    assert table.loc["tam", "phi"] == pytest.approx(70.0 / 76.0)  # Phi from the no-tp model only
    assert (table.loc["tam", "n_ta"], table.loc["tam", "n_ta_tp"]) == (1, 1)


def test_tam_location_variants_are_not_the_module_of_table7():
    rows = _rows("mini-ssv2", {("tsn", 8): 30.0, ("tam", 8): 60.0})
    variant = {
        **rows[1],
        "run_id": "mini-ssv2/tam-resnet50-top_half/f8",
        "clip_top1": 90.0,
        "tam_locations": "top_half",
    }
    frame = pd.DataFrame(rows + [variant]).fillna({"tam_locations": "all"})
    table = contribution_table(pair_with_tsn(frame)).set_index("arch")
    assert table.loc["tam", "psi_ta"] == pytest.approx(30.0 / 70.0)
    assert table.loc["tam", "n_models"] == 1


def test_sampling_must_match_and_is_kept_apart():
    rows = _rows("kinetics400", {("tsn", 8): 70.0, ("tam", 8): 75.0})
    dense = {
        **rows[1],
        "run_id": "kinetics400/tam-resnet50-dense/f8",
        "sampling": "dense",
        "clip_top1": 65.0,
    }
    pairs = pair_with_tsn(pd.DataFrame(rows + [dense]))
    assert bool(pairs.set_index("run_id").loc["kinetics400/tam-resnet50-dense/f8", "tsn_missing"])
    assert list(contribution_table(pairs)["sampling"]) == ["uniform"]
