"""The report reads saved evaluations only and shows every run of the grid, finished or not."""

from __future__ import annotations

import json

import yaml

from actionbench.analysis.report import build_report
from actionbench.config import load_params


def _write_eval(run_dir, clip, temporal, spatial):
    (run_dir / "eval").mkdir(parents=True)
    (run_dir / "eval" / "metrics.json").write_text(json.dumps({
        "clip_top1": clip, "clip_top5": 100.0, "video_top1": clip + 1,
        "clip_top1_temporal": temporal, "clip_top1_spatial": spatial,
        "video_top1_temporal": temporal, "video_top1_spatial": spatial,
        "num_videos": 128, "num_clips": 4, "num_crops": 1,
    }))
    (run_dir / "eval" / "acc_vs_clips.csv").write_text("clips,top1\n1,50\n2,55\n")
    (run_dir / "history.csv").write_text("epoch,loss,val_top1\n1,2.0,40\n2,1.0,60\n")
    (run_dir / "train_metrics.json").write_text(json.dumps({"epochs": 2}))


def test_report_tables_figures_and_missing_runs(tmp_path, params_file, base_params, monkeypatch):
    base_params["project"]["runs_dir"] = str(tmp_path / "runs")
    params = load_params(params_file(base_params))
    runs = tmp_path / "runs" / "mini-synthetic"
    _write_eval(runs / "tsn-resnet18" / "f8", 75.0, 50.0, 100.0)
    _write_eval(runs / "tam-resnet18" / "f8", 95.0, 90.0, 100.0)
    _write_eval(runs / "tsn-resnet18" / "f16", 74.0, 48.0, 100.0)
    (runs / "tam-resnet18" / "f16").mkdir(parents=True)
    (runs / "tam-resnet18" / "f16" / "train_metrics.json").write_text("{}")

    paths = build_report(params, tmp_path / "reports")

    page = paths["html"].read_text()
    assert page.count("<table>") >= 3 and page.count("data:image/png;base64,") >= 3
    md = paths["markdown"].read_text()
    assert "mini-synthetic/tam-resnet18/f16 | not evaluated" in md
    metrics = json.loads(paths["metrics"].read_text())
    assert metrics["mini-synthetic/tam-resnet18/f8"]["clip_top1_temporal"] == 90.0
    contrib = {(c["classes"], c["arch"]): c for c in metrics["contributions"].values()}
    # temporal classes: TSN 50 vs TAM 90 -> Phi = 50/90; spatial: both 100 -> Phi = 1
    assert abs(contrib[("temporal classes", "tam")]["phi"] - 50 / 90) < 1e-3
    assert contrib[("spatial classes", "tam")]["phi"] == 1.0
    assert (tmp_path / "reports" / "figures" / "group_accuracy_clip.svg").is_file()
