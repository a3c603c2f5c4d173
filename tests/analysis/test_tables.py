"""Each table builder on tiny result frames: shape, values, flags, and 'missing' when empty."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from actionbench.analysis import efficiency, fairness, tables
from actionbench.analysis.render import table_html, table_markdown

BASE = {
    "dataset": "mini-ssv2",
    "backbone": "resnet50",
    "tp": False,
    "frames": 8,
    "sampling": "uniform",
    "tam_locations": "all",
    "status": "ok",
    "group": "g",
}


def _results(rows):
    out = []
    for r in rows:
        row = {**BASE, **r}
        tp = "-tp" if row["tp"] else ""
        loc = "" if row["tam_locations"] == "all" else f"-{row['tam_locations']}"
        row.setdefault(
            "run_id", f"{row['dataset']}/{row['arch']}-{row['backbone']}{tp}{loc}/f{row['frames']}"
        )
        row.setdefault("video_top1", row.get("clip_top1", 0) + 1)
        out.append(row)
    return pd.DataFrame(out)


def _protocols(results, epochs=None):
    configs = {}
    for r in results.itertuples():
        configs[r.run_id] = {
            "backbone": r.backbone,
            "frames": r.frames,
            "sampling": r.sampling,
            "init": {"kind": "imagenet", "path": f"{r.backbone}.pth"},
            "schedule": {"name": "cosine", "epochs": (epochs or {}).get(r.run_id, 75)},
            "optim": {"lr": 0.01, "batch_size": 72},
            "eval": {"num_clips": 10, "num_crops": 1},
            "data": {"input_size": 224, "scale_size": 256},
        }
    return {rid: fairness.protocol_record(rid, configs) for rid in configs}, configs


# the paper's Table 5, ResNet50 and InceptionV1 on Mini-SSV2 (None = TSN)
PAPER_T5 = {
    ("inceptionv1", "tsn", 8): 33.1,
    ("inceptionv1", "i3d", 8): 56.4,
    ("inceptionv1", "tam", 8): 59.7,
    ("resnet50", "tsn", 8): 33.9,
    ("resnet50", "i3d", 8): 62.6,
    ("resnet50", "tam", 8): 65.4,
    ("resnet50", "tsm", 8): 64.1,
    ("resnet50", "tsn", 16): 35.3,
    ("resnet50", "tam", 16): 68.6,
}


def test_table5_paper_shape_values_and_flags():
    results = _results(
        [
            {"backbone": b, "arch": a, "frames": f, "clip_top1": v}
            for (b, a, f), v in PAPER_T5.items()
        ]
        + [{"arch": "tam", "tp": True, "clip_top1": 50.0}]
    )  # tp: not Table 5
    protocols, _ = _protocols(results, epochs={"mini-ssv2/tsm-resnet50/f8": 100})
    t = tables.table5(results, protocols)
    assert t.shown
    frame = t.frame
    assert list(frame.columns.names) == ["Backbone", "Module", "level"]
    assert list(frame.columns.get_level_values(0).unique()) == ["InceptionV1", "ResNet50"]
    assert frame.loc[("mini-ssv2", "f=8"), ("ResNet50", "TAM", "clip")] == "65.4"
    assert frame.loc[("mini-ssv2", "f=8"), ("ResNet50", "TAM", "video")] == "66.4"
    assert frame.loc[("mini-ssv2", "f=16"), ("ResNet50", "I3D", "clip")] == "–"  # no run: no number
    assert "50.0" not in frame.to_numpy()
    # TSM trained 100 epochs, its ResNet50 f=8 neighbours 75: flagged there, only there
    assert len(t.flags) == 2 and "training epochs differs" in t.flags[0]
    assert "epochs incl. initialisation differs" in t.flags[1]
    assert all(f.startswith("mini-ssv2, ResNet50, f=8:") for f in t.flags)
    html, md = table_html(frame), table_markdown(frame)
    assert '<th colspan="8">ResNet50</th>' in html and "ResNet50 · TAM · clip" in md


def test_table5_missing_says_what_would_fill_it():
    results = _results(
        [
            {"arch": "tsn", "clip_top1": 30.0},
            {"arch": "tam", "status": "not trained", "clip_top1": float("nan")},
        ]
    )
    t = tables.table5(results, {})
    assert not t.shown
    assert "waiting for results of: mini-ssv2/tam-resnet50/f8 (not trained)" in t.missing


def test_table6_locations():
    rows = [
        {"backbone": "resnet18", "arch": "tam", "tam_locations": loc, "clip_top1": v, "dataset": d}
        for d, vals in (
            ("mini-ssv2", (59.1, 59.7, 56.5, 59.4)),
            ("mini-kinetics", (69.08, 69.21, 69.27, 69.14)),
        )
        for loc, v in zip(("all", "top_half", "bottom_half", "uniform_half"), vals, strict=True)
    ]
    results = _results(rows + [{"arch": "tam", "clip_top1": 70.0}])  # ResNet50: no variants
    t = tables.table6(results, _protocols(results)[0])
    frame = t.frame
    assert list(frame.index.get_level_values("Locations")) == [
        "All",
        "Top-half",
        "Bottom-half",
        "Uniform-half",
    ]
    assert list(frame.index.get_level_values("# of TAMs")) == ["8", "4", "4", "4"]
    assert frame.loc[("ResNet18", "f=8", "4", "Top-half"), ("mini-ssv2", "clip")] == "59.7"
    assert "ResNet50" not in frame.index.get_level_values("Backbone")
    assert not tables.table6(_results([{"arch": "tam", "clip_top1": 1.0}]), {}).shown


def test_table7_from_the_paper_table5_numbers():
    results = _results(
        [
            {"backbone": b, "arch": a, "frames": f, "clip_top1": v}
            for (b, a, f), v in PAPER_T5.items()
        ]
        + [{"arch": "i3d", "frames": 16, "clip_top1": 66.2}]
    )
    t, detail = tables.table7(results, _protocols(results)[0])
    assert t.shown and detail.shown
    phi = t.frame.loc[("mini-ssv2", "mean Φ (spatial)"), ("TAM", "clip")]
    expected = (33.1 / 59.7 + 33.9 / 65.4 + 35.3 / 68.6) / 3
    assert phi == f"{expected:.2f}"
    assert (
        t.frame.loc[("mini-ssv2", "mean Ψ^ta+tp (aggregation + pooling)"), ("TAM", "clip")] == "–"
    )
    long = t.data.set_index(["level", "classes", "arch"])
    assert long.loc[("clip", "all classes", "tam"), "phi"] == pytest.approx(expected)
    assert (
        detail.frame.loc["mini-ssv2/tsm-resnet50/f8", "TSN counterpart"]
        == "mini-ssv2/tsn-resnet50/f8"
    )


def test_table7_reports_missing_counterparts():
    results = _results([{"arch": "tam", "clip_top1": 60.0}])
    t, _ = tables.table7(results, {})
    assert not t.shown and "no model has a TSN counterpart" in t.missing


def test_table7_one_row_group_per_layout_and_refused_counterparts_named():
    rows = [
        {"arch": "tsn", "clip_top1": 40.0},
        {"arch": "tam", "clip_top1": 60.0},
        {"arch": "tsn", "clip_top1": 30.0, "run_id": "mini-ssv2/tsn-resnet50-paper/f8"},
        {"arch": "tam", "clip_top1": 70.0, "run_id": "mini-ssv2/tam-resnet50-paper/f8"},
        {"arch": "i3d", "clip_top1": 65.0, "run_id": "mini-ssv2/i3d-resnet50-paper/f8"},
    ]
    for row in rows:
        row["layout"] = "paper" if row.get("run_id", "").endswith("-paper/f8") else "reference"
    results = _results(rows)
    protocols, _ = _protocols(results)
    for rid in ("mini-ssv2/tsn-resnet50-paper/f8", "mini-ssv2/tam-resnet50-paper/f8"):
        protocols[rid] = {**protocols[rid], "layout": "paper"}
    protocols["mini-ssv2/i3d-resnet50-paper/f8"] = {
        **protocols["mini-ssv2/i3d-resnet50-paper/f8"],
        "layout": "paper",
        "input": "112px (scale 128)",
    }
    t, detail = tables.table7(results, protocols)
    assert t.frame.index.names == ["Dataset", "Layout", "Metric"]
    phi = t.frame.xs("mean Φ (spatial)", level="Metric")[("TAM", "clip")]
    assert phi[("mini-ssv2", "reference")] == f"{40 / 60:.2f}"
    assert phi[("mini-ssv2", "paper")] == f"{30 / 70:.2f}"
    assert list(t.data.loc[t.data["level"] == "clip", "layout"]) == ["reference", "paper"]
    notes = "\n".join(t.notes)
    assert "mini-ssv2 (reference) TAM: 1 without tp" in notes
    assert (
        "TSN counterpart with another protocol (left out, not averaged): "
        "mini-ssv2/i3d-resnet50-paper/f8 vs mini-ssv2/tsn-resnet50-paper/f8: input size: "
        "112px (scale 128) vs 224px (scale 256)" in notes
    )
    assert detail.frame.loc["mini-ssv2/i3d-resnet50-paper/f8", "TSN counterpart"].startswith(
        "refused: mini-ssv2/tsn-resnet50-paper/f8: input size"
    )
    assert not any("layout" in flag for flag in t.flags)  # no pair mixes the two


def test_results_table_shows_videos_scored_and_dropped_per_run():
    results = _results(
        [
            {"arch": "tsn", "clip_top1": 40.0, "num_videos": 1990, "num_videos_dropped": 10},
            {"arch": "tam", "clip_top1": 60.0, "num_videos": 2000, "num_videos_dropped": 0},
            {"arch": "i3d", "status": "not evaluated"},
        ]
    )
    table = tables.results_table(results)
    shown = table.frame[["videos scored", "videos dropped"]]
    assert shown.loc["mini-ssv2/tsn-resnet50/f8"].tolist() == ["1990", "10"]
    assert shown.loc["mini-ssv2/tam-resnet50/f8"].tolist() == ["2000", "0"]
    assert shown.loc["mini-ssv2/i3d-resnet50/f8"].tolist() == ["–", "–"]
    assert any("data.eval_min_frames" in note for note in table.notes)


def test_table4_transfer_from_configs():
    results = _results(
        [
            {
                "dataset": "ucf101",
                "arch": "i3d",
                "frames": 32,
                "sampling": "dense",
                "clip_top1": 97.1,
                "run_id": "ucf101/i3d-resnet50-dense/f32",
            },
            {
                "dataset": "ucf101",
                "arch": "tam",
                "frames": 32,
                "sampling": "dense",
                "clip_top1": 95.1,
                "run_id": "ucf101/tam-resnet50-dense/f32",
            },
            {"dataset": "mini-ssv2", "arch": "tam", "frames": 16, "clip_top1": 60.0},  # progressive
        ]
    )
    protocols, configs = _protocols(results)
    for rid in ("ucf101/i3d-resnet50-dense/f32", "ucf101/tam-resnet50-dense/f32"):
        model = rid.split("/")[1]
        configs[rid]["init"] = {
            "kind": "checkpoint",
            "new_head": True,
            "path": f"runs/kinetics400/{model}/f32/final.pt",
        }
    configs["mini-ssv2/tam-resnet50/f16"]["init"] = {
        "kind": "checkpoint",
        "path": "runs/mini-ssv2/tam-resnet50/f8/final.pt",
    }
    t = tables.table4(results, configs, protocols)
    assert t.shown
    assert list(t.frame.index.get_level_values("Model")) == [
        "I3D-ResNet50 (dense)",
        "TAM-ResNet50 (dense)",
    ]
    assert (
        t.frame.loc[("I3D-ResNet50 (dense)", "kinetics400 (f32)", "f=32"), ("ucf101", "clip")]
        == "97.1"
    )
    assert not tables.table4(results, {}, protocols).shown


def test_table10_and_table8_from_profile_and_benchmark_files(tmp_path):
    results = _results(
        [
            {"arch": "tsn", "clip_top1": 33.9},
            {"arch": "tam", "clip_top1": 65.4},
            {"arch": "tam", "frames": 16, "clip_top1": 68.6},
        ]
    )
    (tmp_path / "profile").mkdir()
    pd.DataFrame(
        [
            {
                "model": "tsn-resnet50",
                "arch": "tsn",
                "backbone": "resnet50",
                "temporal_pooling": False,
                "frames": 8,
                "size": 224,
                "params": 23686295,
                "gflops": 32.7,
            },
            {
                "model": "tam-resnet50",
                "arch": "tam",
                "backbone": "resnet50",
                "temporal_pooling": False,
                "frames": 8,
                "size": 224,
                "params": 23705000,
                "gflops": 32.8,
            },
        ]
    ).to_csv(tmp_path / "profile" / "f8.csv", index=False)
    profiles = efficiency.load_profiles(efficiency.profile_files(tmp_path))
    profiled = efficiency.attach_profiles(results, profiles)
    t10 = tables.table10(results, profiled, True, "profile/f8.csv")
    assert t10.frame.loc[("ResNet50", "TSN-ResNet50"), "Params (M)"] == "23.7"
    assert t10.frame.loc[("ResNet50", "TAM-ResNet50"), "GFLOPs f=8"] == "32.8"
    assert t10.frame.loc[("ResNet50", "TAM-ResNet50"), "GFLOPs f=16"] == "not profiled"
    assert not tables.table10(results, profiled, False, "x").shown

    bench = tmp_path / "benchmarks"
    bench.mkdir()
    (bench / "data_cpu.json").write_text(json.dumps({"machine": {"cpus": 2}}))  # not a model
    for arch, tput in (("tsn", 53.5), ("tam", 14.2)):
        (bench / f"{arch}.json").write_text(
            json.dumps(
                {
                    "arch": arch,
                    "backbone": "resnet50",
                    "temporal_pooling": False,
                    "frames": 8,
                    "device": "cuda",
                    "torch": "2.14.1",
                    "train": {
                        "mode": "train",
                        "device": "cuda",
                        "batch_size": 8,
                        "size": 224,
                        "threads": 16,
                        "step_ms": 8000 / tput,
                        "step_ms_min": 1.0,
                        "clips_per_s": tput,
                        "peak_mem_bytes": 2**31,
                        "max_batch_size": 40 if arch == "tsn" else 48,
                    },
                }
            )
        )
    rows = efficiency.load_benchmarks(bench)
    assert len(rows) == 2
    t8 = tables.table8(rows, profiles, results, "benchmarks/*.json")
    assert t8.frame.loc[("TAM-ResNet50", 8, "train"), "Throughput (clips/s)"] == "14.20"
    assert t8.frame.loc[("TAM-ResNet50", 8, "train"), "Max batch"] == "48"
    assert t8.frame.loc[("TAM-ResNet50", 8, "train"), "GFLOPs"] == "32.8"
    assert t8.frame.loc[("TSN-ResNet50", 8, "train"), "mini-ssv2 clip top-1"] == "33.9"
    assert t8.frame.loc[("TSN-ResNet50", 8, "train"), "Peak memory (GiB)"] == "2.00"
    assert t8.flags == []
    assert t8.frame.loc[("TAM-ResNet50", 8, "train"), "Input (px)"] == "224"
    assert "Measured at input 224 px on cuda" in t8.notes[0]
    # accuracy from runs trained at 112 px, GFLOPs profiled at 112 px: flagged on the row
    run_inputs = {rid: 112 for rid in results["run_id"]}
    small = profiles.assign(size=112)
    t8 = tables.table8(rows, small, results, "benchmarks/*.json", run_inputs)
    flag = t8.frame.loc[("TAM-ResNet50", 8, "train"), "⚠ input size"]
    assert flag == (
        "speed at 224 px, GFLOPs at 112 px; mini-ssv2: accuracy at 112 px: not comparable"
    )
    assert t8.flags == [
        "2 row(s) put numbers measured at different input sizes side by side "
        "(column '⚠ input size')"
    ]
    same = tables.table8(rows, profiles, results, "x", {rid: 224 for rid in results["run_id"]})
    assert "⚠ input size" not in same.frame.columns
    assert not tables.table8(
        efficiency.load_benchmarks(tmp_path / "none"), profiles, results, "x"
    ).shown


def test_table5_and_table6_selection_is_pure_and_ordered():
    results = _results(
        [
            {"arch": "tam", "backbone": "resnet50", "clip_top1": 60.0},
            {"arch": "tsn", "backbone": "resnet50", "clip_top1": 30.0},
            {"arch": "tsn", "backbone": "resnet18", "clip_top1": 25.0},
            {"arch": "tam", "tp": True, "clip_top1": 61.0},  # with tp: not Table 5
            {"arch": "tam", "tam_locations": "top_half", "clip_top1": 58.0},
            {"arch": "tam", "frames": 16, "clip_top1": 62.0, "status": "not trained"},
        ]
    )
    before = results.copy()
    runs, groups = tables.table5_runs(results)
    pd.testing.assert_frame_equal(results, before)  # input untouched
    assert list(runs["run_id"]) == [
        "mini-ssv2/tsn-resnet18/f8",
        "mini-ssv2/tsn-resnet50/f8",
        "mini-ssv2/tam-resnet50/f8",
    ]
    assert groups == {
        "mini-ssv2, ResNet18, f=8": ["mini-ssv2/tsn-resnet18/f8"],
        "mini-ssv2, ResNet50, f=8": ["mini-ssv2/tsn-resnet50/f8", "mini-ssv2/tam-resnet50/f8"],
    }
    runs6, groups6 = tables.table6_runs(results)
    assert list(runs6["tam_locations"]) == ["all", "top_half"]
    assert list(groups6) == ["mini-ssv2, ResNet50, f=8"]
    only_tsn = results[results["arch"] == "tsn"]
    assert tables.table5_runs(only_tsn)[0].empty  # one module: nothing to compare
    assert tables.table6_runs(only_tsn)[0].empty


def test_table4_runs_selects_evaluated_transfer_runs_in_order():
    results = _results(
        [
            {"dataset": "ucf101", "arch": "tam", "frames": 32, "clip_top1": 95.1},
            {"dataset": "ucf101", "arch": "i3d", "frames": 32, "clip_top1": 97.1},
            {"dataset": "hmdb51", "arch": "tam", "frames": 32, "clip_top1": 70.0},
            {"dataset": "mini-ssv2", "arch": "tsn", "backbone": "resnet18", "clip_top1": 30.0},
            {"dataset": "ucf101", "arch": "tsm", "frames": 32, "status": "not trained"},
            {"dataset": "mini-ssv2", "arch": "tam", "frames": 16, "clip_top1": 60.0},
            {"dataset": "mini-ssv2", "arch": "tam", "clip_top1": 58.0},  # ImageNet init
        ]
    )
    _, configs = _protocols(results)

    def from_run(rid, source, new_head=True):
        configs[rid]["init"] = {"kind": "checkpoint", "new_head": new_head, "source_run": source}

    for target in ("ucf101", "hmdb51"):
        from_run(f"{target}/tam-resnet50/f32", "kinetics400/tam-resnet50/f32")
    from_run("ucf101/i3d-resnet50/f32", "kinetics400/i3d-resnet50/f32")
    from_run("ucf101/tsm-resnet50/f32", "kinetics400/tsm-resnet50/f32")  # not evaluated
    from_run("mini-ssv2/tsn-resnet18/f8", "mini-kinetics/tsn-resnet18/f16", new_head=False)
    from_run("mini-ssv2/tam-resnet50/f16", "mini-ssv2/tam-resnet50/f8")  # same dataset
    before = results.copy()
    runs, groups = tables.table4_runs(tables.transfer_rows(results, configs))
    pd.testing.assert_frame_equal(results, before)  # input untouched
    # source dataset, then backbone, module, frames and target dataset
    assert list(runs["run_id"]) == [
        "ucf101/i3d-resnet50/f32",
        "hmdb51/tam-resnet50/f32",
        "ucf101/tam-resnet50/f32",
        "mini-ssv2/tsn-resnet18/f8",
    ]
    assert list(runs["clip_top1"]) == [97.1, 70.0, 95.1, 30.0]
    assert list(runs["source_dataset"]) == ["kinetics400"] * 3 + ["mini-kinetics"]
    assert list(runs["source_run"])[-1] == "mini-kinetics/tsn-resnet18/f16"
    assert list(runs["new_head"]) == [True, True, True, False]
    assert groups == {
        "target ucf101": ["ucf101/i3d-resnet50/f32", "ucf101/tam-resnet50/f32"],
        "target hmdb51": ["hmdb51/tam-resnet50/f32"],
        "target mini-ssv2": ["mini-ssv2/tsn-resnet18/f8"],
    }
    # transfer runs exist but none is evaluated; or none exists: nothing selected
    pending = results[results["run_id"] == "ucf101/tsm-resnet50/f32"]
    pending_runs, pending_groups = tables.table4_runs(tables.transfer_rows(pending, configs))
    assert pending_runs.empty and pending_groups == {}
    assert tables.table4_runs(tables.transfer_rows(results, {}))[0].empty


def test_table7_data_orders_the_means_and_names_the_pairs():
    results = _results(
        [
            {"arch": "tsn", "clip_top1": 40.0},
            {"arch": "slowfast", "clip_top1": 55.0},
            {"arch": "tam", "clip_top1": 70.0},
            {"arch": "i3d", "clip_top1": 60.0},
            {"arch": "tam", "tp": True, "clip_top1": 65.0},
            {"arch": "tsn", "frames": 16, "clip_top1": 50.0},
            {"arch": "tam", "frames": 16, "clip_top1": 80.0},
            {"arch": "tsm", "backbone": "resnet18", "clip_top1": 60.0},  # no TSN-ResNet18
            {"dataset": "mini-kinetics", "arch": "tam", "clip_top1": 64.0},
            {"dataset": "mini-kinetics", "arch": "tsn", "clip_top1": 60.0},
        ]
    )
    long, pairs = tables.contributions(results)
    before = long.copy(), pairs.copy()
    data = tables.table7_data(long, pairs)
    pd.testing.assert_frame_equal(long, before[0])  # inputs untouched
    pd.testing.assert_frame_equal(pairs, before[1])
    # dataset, then module in the paper's order (TAM before SlowFast), clip before video
    rows = data.long[["dataset", "arch", "level"]].itertuples(index=False, name=None)
    assert list(rows) == [
        ("mini-kinetics", "tam", "clip"),
        ("mini-kinetics", "tam", "video"),
        ("mini-ssv2", "i3d", "clip"),
        ("mini-ssv2", "i3d", "video"),
        ("mini-ssv2", "tam", "clip"),
        ("mini-ssv2", "tam", "video"),
        ("mini-ssv2", "slowfast", "clip"),
        ("mini-ssv2", "slowfast", "video"),
    ]
    tam = data.long.iloc[4]
    assert tam["phi"] == pytest.approx((40 / 70 + 50 / 80) / 2)
    assert tam["psi_ta"] == pytest.approx((30 / 60 + 30 / 50) / 2)
    assert tam["psi_ta_tp"] == pytest.approx(25 / 60)
    assert (tam["n_ta"], tam["n_ta_tp"]) == (2, 1)
    assert data.long.iloc[1]["phi"] == pytest.approx(61 / 65)  # video level: top-1 + 1
    assert math.isnan(data.long.iloc[0]["psi_ta_tp"])
    # melted: one row per metric, metrics in Table 7's order before the modules
    head = data.melted.head(8)
    assert list(head[["metric", "arch", "level"]].itertuples(index=False, name=None)) == [
        ("phi", "tam", "clip"),
        ("phi", "tam", "video"),
        ("psi_ta", "tam", "clip"),
        ("psi_ta", "tam", "video"),
        ("psi_ta_tp", "tam", "clip"),
        ("psi_ta_tp", "tam", "video"),
        ("phi", "i3d", "clip"),
        ("phi", "i3d", "video"),
    ]
    assert list(head["top1"].iloc[[0, 2, 6]]) == pytest.approx([60 / 64, 4 / 40, 40 / 60])
    assert list(data.clip_long["arch"]) == ["tam", "i3d", "tam", "slowfast"]
    assert list(data.clip_long["phi"]) == pytest.approx(
        [60 / 64, 40 / 60, (40 / 70 + 50 / 80) / 2, 40 / 55]
    )
    assert set(data.clip_pairs["level"]) == {"clip"} and len(data.clip_pairs) == 7
    assert data.missing == ["mini-ssv2/tsm-resnet18/f8"]
    assert data.groups == {
        f"{rid} vs {tsn}": [rid, tsn]
        for rid, tsn in (
            ("mini-ssv2/slowfast-resnet50/f8", "mini-ssv2/tsn-resnet50/f8"),
            ("mini-ssv2/tam-resnet50/f8", "mini-ssv2/tsn-resnet50/f8"),
            ("mini-ssv2/i3d-resnet50/f8", "mini-ssv2/tsn-resnet50/f8"),
            ("mini-ssv2/tam-resnet50-tp/f8", "mini-ssv2/tsn-resnet50/f8"),
            ("mini-ssv2/tam-resnet50/f16", "mini-ssv2/tsn-resnet50/f16"),
            ("mini-kinetics/tam-resnet50/f8", "mini-kinetics/tsn-resnet50/f8"),
        )
    }
    # no TSN counterpart at all: no numbers, but the runs left out are still named
    alone = tables.table7_data(*tables.contributions(results[results["arch"] == "tsm"]))
    assert alone.long.empty and alone.groups == {}
    assert alone.missing == ["mini-ssv2/tsm-resnet18/f8"]


def test_table10_models_one_row_per_network_and_frames():
    nan = float("nan")
    results = _results(
        [
            {"arch": "tam", "params": 23.7e6, "gflops": 32.8, "profile_size": 224},
            {"arch": "tam", "dataset": "mini-kinetics", "params": 23.7e6, "gflops": 32.8},
            {"arch": "tam", "sampling": "dense", "params": 23.7e6, "gflops": 32.8},
            {"arch": "tsn", "frames": 16, "params": 23.5e6, "gflops": 65.4, "profile_size": 224},
            {"arch": "tsn", "params": 23.5e6, "gflops": 32.7, "profile_size": 224},
            {"arch": "tam", "backbone": "resnet18", "params": nan, "gflops": nan},  # not profiled
            {"arch": "tam", "tam_locations": "top_half", "params": 23.6e6, "gflops": 32.75},
            {"arch": "tam", "tp": True, "params": 23.7e6, "gflops": 16.4, "profile_size": 112},
        ]
    )  # no profile_size: NaN
    before = results.copy()
    models = tables.table10_models(results)
    pd.testing.assert_frame_equal(results, before)  # input untouched
    # backbone, module, tp, frames; one row per network whatever the dataset or sampling
    rows = models[["backbone", "arch", "tp", "tam_locations", "frames"]]
    assert list(rows.itertuples(index=False, name=None)) == [
        ("resnet18", "tam", False, "all", 8),
        ("resnet50", "tsn", False, "all", 8),
        ("resnet50", "tsn", False, "all", 16),
        ("resnet50", "tam", False, "all", 8),
        ("resnet50", "tam", False, "top_half", 8),
        ("resnet50", "tam", True, "all", 8),
    ]
    assert math.isnan(models["gflops"].iloc[0]) and math.isnan(models["params"].iloc[0])
    assert list(models["gflops"].iloc[1:]) == [32.7, 65.4, 32.8, 32.75, 16.4]
    assert list(models["params"].iloc[1:]) == [23.5e6, 23.5e6, 23.7e6, 23.6e6, 23.7e6]
    assert list(models["size"].iloc[[1, 3, 5]]) == [224, 224, 112]


def test_table8_rows_are_numbers_with_their_consistency_flags():
    results = _results(
        [
            {"arch": "tsn", "clip_top1": 33.9},
            {
                "arch": "tam",
                "sampling": "dense",
                "clip_top1": 60.0,
                "run_id": "mini-ssv2/tam-resnet50-dense/f8",
            },
            {"arch": "tam", "clip_top1": 65.4},  # uniform: preferred over dense
            {"arch": "tam", "dataset": "mini-kinetics", "clip_top1": 70.0},
            {"arch": "tsm", "clip_top1": 64.0, "status": "not evaluated"},
        ]
    )
    nan = float("nan")
    bench = pd.DataFrame(
        [
            {"arch": "tsn", "mode": "train", "device": "cuda", "batch_size": 8},
            {"arch": "tam", "mode": "train", "device": "cuda", "batch_size": 4},
            {"arch": "tsm", "mode": "inference", "device": "cpu", "batch_size": 2},
        ],
        columns=efficiency.BENCH_COLUMNS,
    ).assign(
        backbone="resnet50", tp=False, frames=8, size=224, threads=4, torch="2.14.1",
        step_ms=100.0, clips_per_s=[80.0, 20.0, 20.0], peak_mem_bytes=2**30, max_batch_size=nan,
    )  # fmt: skip
    profiles = pd.DataFrame(
        [
            {"arch": "tsn", "size": 224, "gflops": 32.7},
            {"arch": "tsn", "size": 112, "gflops": 8.2},
            {"arch": "tam", "size": 112, "gflops": 8.25},  # only at another size
        ],
        columns=efficiency.PROFILE_COLUMNS,
    ).assign(backbone="resnet50", tp=False, frames=8, tam_locations="all", params=2.4e7)
    run_inputs = {"mini-kinetics/tam-resnet50/f8": 112, "mini-ssv2/tam-resnet50/f8": 224}
    rows, flags = tables.table8_rows(bench, profiles, results, run_inputs)
    assert list(rows["arch"]) == ["tsn", "tam", "tsm"]  # the benchmark's rows, in its order
    assert list(rows["clips_per_s"]) == [80.0, 20.0, 20.0]
    assert rows["gflops"].iloc[0] == 32.7 and rows["gflops"].iloc[1] == 8.25
    assert math.isnan(rows["gflops"].iloc[2])
    assert list(rows["profiled"]) == [True, True, False]
    added = list(rows.columns[len(efficiency.BENCH_COLUMNS) :])
    assert added == [
        "gflops",
        "profiled",
        "mini-ssv2 clip top-1",
        "mini-ssv2 video top-1",
        "mini-kinetics clip top-1",
        "mini-kinetics video top-1",
        "input_size_mismatch",
    ]
    assert rows["mini-ssv2 clip top-1"].tolist()[:2] == [33.9, 65.4]
    assert rows["mini-ssv2 video top-1"].tolist()[:2] == [34.9, 66.4]
    assert rows["mini-kinetics clip top-1"].isna().tolist() == [True, False, True]
    assert rows["mini-kinetics clip top-1"].iloc[1] == 70.0
    assert rows[added[2:6]].iloc[2].isna().all()  # TSM: no evaluated run
    assert rows["input_size_mismatch"].iloc[1] == (
        "GFLOPs at 112 px; mini-kinetics: accuracy at 112 px"
    )
    assert rows["input_size_mismatch"].iloc[[0, 2]].isna().all()
    assert flags == [
        "train: batch size differs between rows (8, 4) and no row measured its maximum batch; "
        "throughput depends on batch size",
        "1 row(s) put numbers measured at different input sizes side by side "
        "(column '⚠ input size')",
    ]
    empty, no_flags = tables.table8_rows(bench.iloc[0:0], profiles, results)
    assert empty.empty and no_flags == []
