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


def _layouts(dataset, values):
    """Rows of both layouts: ``values`` maps (arch, frames, layout) to top-1."""
    rows = []
    for (arch, frames, layout), acc in values.items():
        suffix = "-paper" if layout == "paper" else ""
        rows.append(
            {
                **_rows(dataset, {(arch, frames): acc})[0],
                "run_id": f"{dataset}/{arch}-resnet50{suffix}/f{frames}",
                "layout": layout,
            }
        )
    return rows


def test_layouts_are_never_paired_with_each_other_and_get_a_row_each():
    # the case: reference TAM f8 has no reference TSN f8, only the -paper one
    results = pd.DataFrame(
        _layouts(
            "mini-ssv2",
            {
                ("tsn", 8, "paper"): 40.0,
                ("tam", 8, "paper"): 70.0,
                ("tam", 8, "reference"): 64.0,
                ("tsn", 16, "reference"): 36.0,
                ("tam", 16, "reference"): 68.0,
            },
        )
    )
    pairs = pair_with_tsn(results).set_index("run_id")
    assert bool(pairs.loc["mini-ssv2/tam-resnet50/f8", "tsn_missing"])
    assert pairs.loc["mini-ssv2/tam-resnet50-paper/f8", "tsn_run_id"] == (
        "mini-ssv2/tsn-resnet50-paper/f8"
    )
    assert pairs.loc["mini-ssv2/tam-resnet50/f16", "tsn_run_id"] == "mini-ssv2/tsn-resnet50/f16"
    table = contribution_table(pairs.reset_index()).set_index(["layout", "arch"])
    assert list(table.index) == [("paper", "tam"), ("reference", "tam")]
    assert table.loc[("paper", "tam"), "phi"] == pytest.approx(40.0 / 70.0)
    assert table.loc[("reference", "tam"), "phi"] == pytest.approx(36.0 / 68.0)  # f16 only
    assert table.loc[("reference", "tam"), "n_ta"] == 1


def _protocol(input_px=224, commit="aaaa"):
    return {
        "backbone": "resnet50",
        "frames": "8",
        "sampling": "uniform",
        "pretraining": "ImageNet",
        "weights": "resnet50.pth",
        "eval_protocol": "10x1",
        "epochs": "75",
        "total_epochs": "75",
        "input": f"{input_px}px (scale 256)",
        "optimizer": "lr 0.01, batch 72, wd 0.0005, momentum 0.9",
        "schedule": "cosine",
        "layout": "reference",
        "normalization": "imagenet",
        "code": commit,
    }


def test_a_counterpart_with_another_protocol_is_refused_the_code_version_is_not():
    results = pd.DataFrame(
        _rows("mini-ssv2", {("tsn", 8): 30.0, ("tam", 8): 60.0, ("i3d", 8): 50.0})
    )
    protocols = {
        "mini-ssv2/tsn-resnet50/f8": _protocol(),
        "mini-ssv2/tam-resnet50/f8": _protocol(input_px=112),  # refused: input size
        "mini-ssv2/i3d-resnet50/f8": _protocol(commit="bbbb"),  # paired: the code is flagged only
    }
    pairs = pair_with_tsn(results, protocols=protocols).set_index("run_id")
    tam = pairs.loc["mini-ssv2/tam-resnet50/f8"]
    assert bool(tam["tsn_missing"]) and math.isnan(tam["phi"])
    assert tam["tsn_mismatch"] == (
        "mini-ssv2/tsn-resnet50/f8: input size: 112px (scale 256) vs 224px (scale 256)"
    )
    i3d = pairs.loc["mini-ssv2/i3d-resnet50/f8"]
    assert i3d["tsn_run_id"] == "mini-ssv2/tsn-resnet50/f8" and i3d["tsn_mismatch"] == ""
    assert list(contribution_table(pairs.reset_index())["arch"]) == ["i3d"]
    # without protocol records the keys alone decide (as for hand-built frames)
    assert not pair_with_tsn(results)["tsn_missing"].any()


def test_n_counts_only_the_pairs_a_mean_averages():
    # TSN at 100% leaves no headroom: Psi is undefined there, Phi is not
    rows = _rows("mini-kinetics", {("tsn", 8): 100.0, ("tam", 8): 100.0})
    rows += _rows("mini-kinetics", {("tsn", 16): 50.0, ("tam", 16): 75.0})
    rows += [
        {**rows[1], "run_id": "mini-kinetics/tam-resnet50-tp/f8", "tp": True, "clip_top1": 90.0}
    ]
    table = contribution_table(pair_with_tsn(pd.DataFrame(rows))).set_index("arch")
    assert table.loc["tam", "psi_ta"] == pytest.approx(25.0 / 50.0)  # the f16 pair alone
    assert table.loc["tam", "phi"] == pytest.approx((1.0 + 50.0 / 75.0) / 2)  # both pairs
    assert (table.loc["tam", "n_phi"], table.loc["tam", "n_ta"]) == (2, 1)
    assert math.isnan(table.loc["tam", "psi_ta_tp"]) and table.loc["tam", "n_ta_tp"] == 0
    assert table.loc["tam", "n_models"] == 3
