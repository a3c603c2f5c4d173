"""The report reads saved evaluations only and shows every run of the grid, finished or not."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from actionbench.analysis.report import build_report
from actionbench.config import load_params
from conftest import write_trained
from study_params import paper_dataset


def _write_eval(run_dir, clip, temporal, spatial):
    metrics = {
        "clip_top1": clip,
        "clip_top5": 100.0,
        "video_top1": clip + 1,
        "clip_top1_temporal": temporal,
        "clip_top1_spatial": spatial,
        "video_top1_temporal": temporal,
        "video_top1_spatial": spatial,
        "num_videos": 128,
        "num_clips": 4,
        "num_crops": 1,
    }
    write_trained(run_dir, {"epochs": 2}, metrics)
    (run_dir / "eval" / "acc_vs_clips.csv").write_text("clips,top1\n1,50\n2,55\n")
    (run_dir / "history.csv").write_text("epoch,loss,val_top1\n1,2.0,40\n2,1.0,60\n")


def test_report_tables_figures_and_missing_runs(tmp_path, params_file, base_params, monkeypatch):
    base_params["project"]["runs_dir"] = str(tmp_path / "runs")
    params = load_params(params_file(base_params))
    runs = tmp_path / "runs" / "mini-synthetic"
    _write_eval(runs / "tsn-resnet18" / "f8", 75.0, 50.0, 100.0)
    _write_eval(runs / "tam-resnet18" / "f8", 95.0, 90.0, 100.0)
    _write_eval(runs / "tsn-resnet18" / "f16", 74.0, 48.0, 100.0)
    write_trained(runs / "tam-resnet18" / "f16", {}, None)  # trained, not evaluated

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
    # no predictions.csv: the pairwise tests say so instead of testing anything
    pairwise = pd.read_csv(paths["pairwise"])
    assert pairwise["note"].str.contains("no eval/predictions.csv").all()


def test_report_on_demo_grid(demo_runs, tmp_path):
    params, params_path = demo_runs
    out = tmp_path / "reports"
    paths = build_report(params, out, params_path=params_path, resamples=500)

    for name in (
        "results.csv",
        "contributions.csv",
        "contribution_pairs.csv",
        "pairwise.csv",
        "tables/table5.csv",
        "tables/table7.csv",
        "tables/protocol.csv",
        "plots/accuracy_vs_frames.csv",
        "plots/acc_vs_clips.csv",
        "plots/per_class.csv",
        "figures/accuracy_vs_frames_clip_top1.svg",
        "figures/per_class_clip.png",
        "figures/contributions_clip.png",
        "figures/accuracy_vs_clips.png",
    ):
        assert (out / name).is_file(), name
    assert not (out / "plots" / "tp_gain.csv").exists()  # no tp runs: no invented gains

    metrics = json.loads(paths["metrics"].read_text())
    # TSN 75 / TAM 96.875 (f8) and 75 / 100 (f16): Phi = mean(75/96.875, 75/100)
    tam = metrics["contributions"]["mini-synthetic/all classes/tam"]
    assert tam["phi"] == pytest.approx((75 / 96.875 + 0.75) / 2, abs=1e-6)
    assert tam["psi_ta"] == pytest.approx((21.875 / 25 + 1.0) / 2, abs=1e-6)
    assert tam["psi_ta_tp"] is None and tam["n_ta"] == 2
    assert metrics["contributions"]["mini-synthetic/temporal classes/tam"]["phi"] == pytest.approx(
        (50 / 93.75 + 0.5) / 2, abs=1e-6
    )
    assert "contributions_video" in metrics

    pairs = pd.read_csv(paths["pairwise"])
    row = pairs[
        (pairs["run_a"] == "mini-synthetic/tam-resnet18/f8")
        & (pairs["run_b"] == "mini-synthetic/tsn-resnet18/f8")
        & (pairs["level"] == "clip")
    ].iloc[0]
    assert row["diff"] == pytest.approx(21.875) and row["significant"]
    assert row["ci_low"] > 0 and pd.isna(row["protocol_differences"])
    frames_pair = pairs[(pairs["factor"] == "frames") & (pairs["level"] == "clip")].iloc[0]
    assert "training epochs: 4 vs 12" in frames_pair["protocol_differences"]

    md = paths["markdown"].read_text()
    page = paths["html"].read_text()
    assert "## Spatial and temporal contributions (Table 7)" in md
    assert "## Pairwise comparisons" in md and "## Reproducibility" in md
    assert "Table 6 — numbers and locations of TAMs" in md.split("## Tables not filled yet")[1]
    assert "not profiled" in md
    assert page.count("<details>") == 4  # one resolved config per run
    assert "data:image/png;base64," in page and "<script" not in page
    assert 'src="http' not in page and 'href="http' not in page  # self-contained
    # every caption links the figure's files, which lie beside the page (Markdown likewise)
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert len(captions) == page.count("<figure ") >= 8
    for caption in captions:
        links = re.findall(r'<a href="([^"]+)">(SVG|PNG)</a>', caption)
        assert [label for _, label in links] == ["SVG", "PNG"], caption
        assert all((out / href).is_file() for href, _ in links), links
    md_links = re.findall(r"\*[^*\n]+\* \(\[SVG\]\((figures/[^)]+\.svg)\)", md)
    assert len(md_links) == len(captions) and all((out / h).is_file() for h in md_links)


def test_report_reads_profile_and_benchmark_outputs(demo_runs, tmp_path):
    params, params_path = demo_runs
    out = tmp_path / "reports"
    (out / "benchmarks").mkdir(parents=True)
    pd.DataFrame(
        [
            {
                "model": f"{a}-resnet18",
                "arch": a,
                "backbone": "resnet18",
                "temporal_pooling": False,
                "frames": f,
                "size": 224,
                "params": 11180000 + (4416 if a == "tam" else 0),
                "gflops": 14.6 * f / 8,
            }
            for a in ("tsn", "tam")
            for f in (8, 16)
        ]
    ).to_csv(out / "profile.csv", index=False)
    (out / "benchmarks" / "tam-resnet18-f8.json").write_text(
        json.dumps(
            {
                "arch": "tam",
                "backbone": "resnet18",
                "temporal_pooling": False,
                "frames": 8,
                "device": "cpu",
                "torch": "2.14.1",
                "inference": {
                    "mode": "inference",
                    "device": "cpu",
                    "batch_size": 2,
                    "size": 224,
                    "threads": 2,
                    "step_ms": 500.0,
                    "step_ms_min": 480.0,
                    "clips_per_s": 4.0,
                    "peak_mem_bytes": 2**30,
                },
            }
        )
    )
    paths = build_report(params, out, params_path=params_path, resamples=200)
    md = paths["markdown"].read_text()
    assert "## Table 10 — parameters and FLOPs" in md and "## Table 8 — speed and memory" in md
    assert "| ResNet18 | TSN-ResNet18 | 11.2 | 14.6 | 29.2 |" in md
    assert "|  | TAM-ResNet18 | 11.2 | 14.6 | 29.2 |" in md
    assert "| TAM-ResNet18 | 8 | inference | cpu | 224 | 2 | 500.0 | 4.00 | 1.00 | – | 14.6 |" in md
    # the demo's runs train at 32 px: the 224-px benchmark row says its accuracy is not comparable
    assert "speed at 224 px, mini-synthetic: accuracy at 32 px: not comparable |" in md
    assert "Measured at input 224 px on cpu" in md
    assert (out / "figures" / "accuracy_vs_gflops_video_top1.png").is_file()
    gflops = pd.read_csv(out / "plots" / "accuracy_vs_gflops.csv")
    assert set(gflops["gflops"]) == {14.6, 29.2}


def test_stale_runs_are_flagged(demo_runs, tmp_path):
    params, params_path = demo_runs
    params["experiments"]["demo"]["train"]["optim"]["lr"] = 0.05  # changed after training
    paths = build_report(params, tmp_path / "reports", resamples=100)
    md = paths["markdown"].read_text()
    assert "Stale runs" in md and "optim.lr: 0.02 (run) vs 0.05 (params.yaml)" in md
    results = pd.read_csv(paths["table"])
    assert results["stale"].all()


def test_report_experiments_selects_groups(demo_runs, tmp_path):
    params, _ = demo_runs
    params["datasets"]["ssv2"] = paper_dataset("ssv2")
    params["experiments"]["paper_table6_ssv2"] = {  # Table 6's TAM locations, as shipped
        "enabled": False,
        "dataset": "mini-ssv2",
        "archs": ["tam"],
        "backbones": ["resnet18"],
        "frames": [8],
        "tam_locations": ["top_half", "bottom_half", "uniform_half"],
    }
    params["report"]["experiments"] = ["paper_table6_ssv2"]  # disabled group: still reported
    paths = build_report(params, tmp_path / "reports", resamples=100)
    results = pd.read_csv(paths["table"])
    assert set(results["group"]) == {"paper_table6_ssv2"}
    assert len(results) == 3
    assert (results["status"] == "not trained").all()
    assert (
        "waiting for results of: mini-ssv2/tam-resnet18-top_half/f8"
        in paths["markdown"].read_text()
    )


def test_cli_report(demo_runs, tmp_path, capsys):
    from actionbench.cli import main

    _, params_path = demo_runs
    out = tmp_path / "cli-report"
    assert (
        main(
            [
                "report",
                "--params",
                str(params_path),
                "--out-dir",
                str(out),
                "--resamples",
                "100",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    assert "report:" in capsys.readouterr().out
    assert (out / "index.html").is_file() and (out / "pairwise.csv").is_file()
    assert "100 resamples, seed 1" in (out / "report.md").read_text()


def test_findings_first_and_protocol_warnings_once(demo_runs, tmp_path):
    import re

    params, params_path = demo_runs
    paths = build_report(params, tmp_path / "reports", params_path=params_path, resamples=200)
    page = paths["html"].read_text()
    md = paths["markdown"].read_text()
    # the first section is Findings, in words, before any table
    assert md.split("\n## ")[1].startswith("Findings")
    findings = md.split("## Findings")[1].split("\n## ")[0]
    assert "<table>" not in findings and "|---|" not in findings
    assert re.search(
        r"On mini-synthetic, TAM-ResNet18 f16 beats TSN-ResNet18 f16 by 25\.0 points "
        r"\(\+50\.0 on temporal classes, \+0\.0 on spatial classes\): 95% CI \[\+[\d.]+, "
        r"\+[\d.]+\], p [=<] [\d.]+ \(Holm-adjusted p [=<] [\d.]+, 64 videos\)\.",
        findings,
    )
    assert "Not significant (Holm-adjusted p ≥ 0.05): 2 comparison(s)" in findings
    assert "temporal_vs_spatial_clip.png" in findings
    # no warning box repeated: each list of protocol differences appears once on the page
    boxes = re.findall(r'<div[^>]*class="flags">(.*?)</div>', page)
    assert boxes and len(boxes) == len(set(boxes))
    # every figure's link leads to one target
    links = re.findall(r'class="flaglink">[^<]*<a href="#([^"]+)"', page)
    assert links
    for anchor in set(links):
        assert page.count(f'id="{anchor}"') == 1, anchor
    # provenance: no claim about MLflow records the runs do not have
    assert "MLflow record" not in page
    assert "4 run(s) record no code version" in page


def test_run_identity_from_train_metrics():
    from actionbench.analysis import provenance

    identity = {
        "version": 1,
        "protocol": "p" * 16,
        "data": {"train_list": "a" * 64, "classes": "c" * 64},
        "init": {
            "kind": "checkpoint",
            "path": "runs/d/tam-resnet18/f8/final.pt",
            "sha256": "b" * 64,
        },
        "fingerprint": "f" * 16,
    }
    rows = provenance.run_identity(
        {
            "d/tam-resnet18/f16": {
                "epochs": 2,
                "identity": identity,
                "final": {"sha256": "e" * 64, "bytes": 3},
                "code": {"package_version": "0.1.0", "git_commit": "abc123", "git_dirty": True},
                "code_resumes": [{"epoch": 1}],
            },
            "d/tsn-resnet18/f8": {"epochs": 2},
            "d/tsn-resnet18/f16": None,
        }
    )
    assert rows == [
        {
            "run": "d/tam-resnet18/f16",
            "identity": "f" * 16,
            "settings": "p" * 12,
            "train list": "a" * 12,
            "classes": "c" * 12,
            "initial weights": "checkpoint " + "b" * 12,
            "final.pt": "e" * 12,
            "code": "0.1.0 abc123 + uncommitted changes; resumed 1x under other code",
        }
    ]


def test_report_describes_the_mini_set_the_runs_train_on_and_its_source(
    demo_runs, tmp_path, monkeypatch
):
    """The runs train on mini-synthetic: its classes and videos, how they were chosen, then
    the set it comes from with the counts the data stage printed (indexed, extracted, excluded
    by reason)."""
    params, params_path = demo_runs
    monkeypatch.chdir(tmp_path)
    lists = tmp_path / "data" / "lists" / "synthetic"
    lists.mkdir(parents=True)
    summary = {
        "dataset": "synthetic", "annotation_rows": 17, "annotation_rows_skipped": 1,
        "indexed": 16, "extracted": 14, "excluded": 3,
        "excluded_by_reason": {"video not found": 1, "not a video": 1, "empty file": 1},
        "train": 7, "val": 7, "classes": 4, "classes_without_train": [],
    }  # fmt: skip
    (lists / "summary.json").write_text(json.dumps(summary))
    mini = tmp_path / "data" / "lists" / "mini-synthetic"
    mini.mkdir(parents=True)
    (mini / "classes.csv").write_text("label,label_name\n0,a\n1,b\n")
    (mini / "train.csv").write_text("video_id,label\n" + "".join(f"t{i},0\n" for i in range(4)))
    (mini / "val.csv").write_text("video_id,label\nv0,0\nv1,1\nv2,1\n")
    paths = build_report(params, tmp_path / "reports", params_path=params_path, resamples=100)
    md = paths["markdown"].read_text()
    data = md.split("## Data", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in data.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| dataset | used as | classes | train / val videos |")
    assert rows[1] == (
        "| mini-synthetic | trained on (4 runs) | 2 | 4 / 3 | a seeded half of the classes, "
        "seed 0 (forward/reversed pairs kept together) | – | – | – | – | – | – |"
    )
    assert rows[2] == (
        "| synthetic | source of mini-synthetic | 4 | 7 / 7 | – | 17 | 16 | 14 | 3 | "
        "video not found: 1; not a video: 1; empty file: 1 | 1 |"
    )


def test_an_evaluation_of_a_model_that_is_gone_is_not_shown_but_an_imported_one_is(
    demo_runs, tmp_path
):
    """A train job that failed or was interrupted leaves no final.pt while the evaluation of
    the earlier model is still on disk: the report must not show those numbers as the run's
    (status calls it missing), and its banner names the run. An evaluation of an imported
    checkpoint (`evaluate --checkpoint`) scored another file on purpose: it stays."""
    params, params_path = demo_runs
    run = tmp_path / "runs" / "mini-synthetic" / "tam-resnet18" / "f16"
    (run / "final.pt").unlink()
    (run / "train_metrics.json").unlink()
    paths = build_report(params, tmp_path / "reports", params_path=params_path, resamples=50)
    results = pd.read_csv(paths["table"])
    row = results[results["run_id"] == "mini-synthetic/tam-resnet18/f16"].iloc[0]
    assert row["status"] == "not trained" and pd.isna(row["clip_top1"])
    md = paths["markdown"].read_text()
    assert "## Partial report" in md and "mini-synthetic/tam-resnet18/f16: missing" in md

    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    metrics["checkpoint"] = str(tmp_path / "reference" / "converted.pt")
    (run / "eval" / "metrics.json").write_text(json.dumps(metrics))
    paths = build_report(params, tmp_path / "reports", params_path=params_path, resamples=50)
    results = pd.read_csv(paths["table"])
    row = results[results["run_id"] == "mini-synthetic/tam-resnet18/f16"].iloc[0]
    assert row["status"] == "ok" and row["clip_top1"] == 100.0
