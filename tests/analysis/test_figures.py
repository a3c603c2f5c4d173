"""Every figure from tiny frames (PNG + SVG), and none from missing data."""

from __future__ import annotations

import pandas as pd
import pytest

from actionbench.analysis import efficiency, figures, plotdata, tables

pytestmark = pytest.mark.filterwarnings("error::FutureWarning", "error::DeprecationWarning")


def _results():
    rows = []
    for dataset, bump in (("mini-ssv2", 0.0), ("mini-kinetics", 30.0)):
        for arch in ("tsn", "tam", "i3d"):
            for backbone in ("resnet18", "resnet50"):
                for tp in (False, True):
                    for frames in (8, 16):
                        acc = (
                            30
                            + bump
                            + (25 if arch != "tsn" else 0)
                            + frames / 8
                            + (3 if tp and arch == "tsn" else -2 if tp else 0)
                        )
                        rid = f"{dataset}/{arch}-{backbone}{'-tp' if tp else ''}/f{frames}"
                        rows.append(
                            {
                                "run_id": rid,
                                "dataset": dataset,
                                "arch": arch,
                                "backbone": backbone,
                                "tp": tp,
                                "frames": frames,
                                "sampling": "uniform",
                                "tam_locations": "all",
                                "status": "ok",
                                "clip_top1": acc,
                                "video_top1": acc + 1,
                                "eval_clips": 10,
                                "eval_crops": 1,
                            }
                        )
    return pd.DataFrame(rows)


def test_all_figures_written_as_png_and_svg(tmp_path, text_overlaps):
    results = _results()
    tp = plotdata.tp_gain(results)
    assert len(tp) == 2 * 3 * 2 * 2
    tsn = tp[(tp["arch"] == "tsn") & (tp["dataset"] == "mini-ssv2") & (tp["frames"] == 8)]
    assert tsn["clip_gain"].iloc[0] == pytest.approx(3.0)

    long7, _ = tables.contributions(results)
    profiles = pd.DataFrame(
        [
            {
                "arch": a,
                "backbone": b,
                "tp": t,
                "frames": f,
                "tam_locations": "all",
                "size": 224,
                "num_classes": None,
                "params": 11e6 if b == "resnet18" else 23e6,
                "gflops": (14.6 if b == "resnet18" else 32.7) * f / 8,
                "source": "x",
            }
            for a in ("tsn", "tam", "i3d")
            for b in ("resnet18", "resnet50")
            for t in (False, True)
            for f in (8, 16)
        ]
    )
    profiled = efficiency.attach_profiles(results, profiles)
    curves = pd.DataFrame(
        {
            "run_id": ["mini-ssv2/tam-resnet18/f8"] * 3,
            "num_clips": [1, 2, 3],
            "top1": [50.0, 52.0, 53.0],
            "top5": [80.0, 81.0, 82.0],
        }
    )
    per_class = pd.DataFrame(
        {
            "run_id": "mini-ssv2/tam-resnet18/f8",
            "label": [0, 1, 2, 3],
            "label_name": ["a", "b", "c", "d"],
            "group": ["temporal", "temporal", "spatial", "spatial"],
            "num_videos": 4,
            "clip_top1": [50.0, 75.0, 100.0, 100.0],
            "video_top1": [50.0, 75.0, 100.0, 100.0],
        }
    )
    drawn = [
        figures.accuracy_vs_frames(plotdata.accuracy_vs_frames(results), tmp_path),
        figures.tp_gain(tp, tmp_path),
        figures.contribution_bars(long7, tmp_path),
        figures.accuracy_vs_clips(plotdata.acc_vs_clips(curves, results), tmp_path),
        figures.accuracy_vs_gflops(plotdata.accuracy_vs_gflops(profiled), tmp_path),
        figures.per_class_accuracy(plotdata.per_class([per_class], results), tmp_path),
        figures.training_curves(
            {"r": pd.DataFrame({"epoch": [1, 2], "loss": [2.0, 1.0], "val_top1": [0.3, 0.5]})},
            tmp_path,
        ),
    ]
    for png in drawn:
        assert png is not None and png.stat().st_size > 1000
        assert png.with_suffix(".svg").is_file()
    # 24 runs on two datasets: no two texts of any figure overlap (tick labels included)
    assert len(text_overlaps) == len(drawn)
    assert {stem: pairs for stem, pairs in text_overlaps.items() if pairs} == {}


def test_no_figure_from_missing_data(tmp_path):
    results = _results()
    results["status"] = "not trained"
    empty_long, _ = tables.contributions(results)
    assert figures.accuracy_vs_frames(plotdata.accuracy_vs_frames(results), tmp_path) is None
    assert figures.tp_gain(plotdata.tp_gain(results), tmp_path) is None
    assert figures.contribution_bars(empty_long, tmp_path) is None
    no_profile = efficiency.attach_profiles(_results(), efficiency.load_profiles([]))
    assert figures.accuracy_vs_gflops(plotdata.accuracy_vs_gflops(no_profile), tmp_path) is None
    assert figures.per_class_accuracy(plotdata.per_class([], results), tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_one_colour_and_marker_per_model_in_every_figure(tmp_path):
    from matplotlib.colors import to_rgb

    from actionbench.analysis.styles import Styles, read_used

    results = _results()
    results["clip_top1_temporal"] = results["clip_top1"] - 5
    results["clip_top1_spatial"] = results["clip_top1"] + 5
    styles = Styles(results)
    assert len(styles.models) == 3 * 2 * 2  # (arch, backbone, tp), frames do not count
    curves = pd.DataFrame(
        [{"run_id": r, "num_clips": k, "top1": 50.0 + k}
         for r in ("mini-ssv2/tam-resnet50-tp/f8", "mini-ssv2/tsn-resnet18/f16") for k in (1, 2)]
    )  # fmt: skip
    drawn = [
        figures.temporal_vs_spatial(results, tmp_path, "clip", styles),
        figures.accuracy_vs_frames(plotdata.accuracy_vs_frames(results), tmp_path, "clip_top1", styles),
        figures.tp_gain(plotdata.tp_gain(results), tmp_path, "clip", styles),
        figures.accuracy_vs_clips(plotdata.acc_vs_clips(curves, results), tmp_path, styles),
    ]  # fmt: skip
    used = [read_used(png) for png in drawn]
    assert all(used)
    seen: dict[str, dict] = {}
    for models in used:
        for label, style in models.items():
            assert seen.setdefault(label, style) == style, f"{label} changes style"
    assert used[0]["TAM-ResNet50-tp"] == used[2]["TAM-ResNet50-tp"] == used[3]["TAM-ResNet50-tp"]
    colours = [s["color"] for s in seen.values()]
    assert len(set(colours)) == len(colours)  # different models, different colours
    assert {s["marker"] for label, s in seen.items() if "ResNet50" in label} == {"^"}
    # fewer frames: the same hue, lighter
    style = styles.models[("tam", "resnet50", True)]
    full, light = to_rgb(styles.shade(style, 16)), to_rgb(styles.shade(style, 8))
    assert full == to_rgb(style.color) and sum(light) > sum(full)
    assert styles.linestyle(16) == "-" and styles.linestyle(8) == "--"
