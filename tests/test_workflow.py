"""End to end: the real Snakemake DAG on a tiny synthetic set (ffmpeg, training, eval, report)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def tiny_params(base: dict) -> dict:
    p = json.loads(json.dumps(base))
    p["datasets"]["synthetic"]["synth"].update(
        size=32, num_frames=12, train_per_class=2, val_per_class=2, temporal_pairs=2, spatial_classes=0
    )
    p["datasets"]["synthetic"]["extract"].update(short_side=36, workers=2)
    demo = p["experiments"]["demo"]
    demo["train"]["optim"].update(batch_size=2)
    demo["train"]["stages"] = {
        "f8": {"init": "scratch", "epochs": 1, "schedule": "cosine"},
        "f16": {"init": "previous", "epochs": 2, "schedule": "multistep", "milestones": [1]},
    }
    demo["evaluate"] = {"num_clips": 2, "batch_size": 4}
    return p


def make_project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(REPO / "Snakefile", proj)
    shutil.copytree(REPO / "workflow", proj / "workflow")
    os.symlink("workflow/profiles/local", proj / "local")
    base = yaml.safe_load((REPO / "params.yaml").read_text())
    (proj / "params.yaml").write_text(yaml.safe_dump(tiny_params(base)))
    return proj


def snakemake(proj: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "local", "--cores", "2", *args],
        cwd=proj, env=env, capture_output=True, text=True, timeout=900,
    )


@pytest.mark.integration
def test_tiny_dag_end_to_end_then_nothing_to_do(tmp_path):
    proj = make_project(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"}
    first = snakemake(proj, "all", env=env)
    logs = "\n".join(p.read_text() for p in (proj / "logs").rglob("*.log")) if first.returncode else ""
    assert first.returncode == 0, first.stderr[-4000:] + logs[-4000:]

    # every stage really ran: frames from ffmpeg, a 2-class mini set, 4 trained + evaluated runs
    frames = sorted((proj / "data" / "frames" / "synthetic").glob("*/img_00001.jpg"))
    assert len(frames) == 4 * 4  # 4 classes x (2 train + 2 val)
    classes = (proj / "data" / "lists" / "mini-synthetic" / "classes.csv").read_text().splitlines()
    assert len(classes) == 1 + 2
    for run in ("tsn-resnet18/f8", "tsn-resnet18/f16", "tam-resnet18/f8", "tam-resnet18/f16"):
        metrics = json.loads((proj / "runs" / "mini-synthetic" / run / "eval" / "metrics.json").read_text())
        assert 0.0 <= metrics["clip_top1"] <= 100.0
    report = (proj / "reports" / "index.html").read_text()
    assert "<table>" in report and "data:image/png;base64," in report
    assert "mini-synthetic/tam-resnet18/f16" in (proj / "reports" / "report.md").read_text()

    second = snakemake(proj, "all", "--dry-run", env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Nothing to be done" in second.stdout + second.stderr


@pytest.mark.integration
def test_bad_params_stop_snakemake_before_any_job(tmp_path):
    proj = make_project(tmp_path)
    params = yaml.safe_load((proj / "params.yaml").read_text())
    params["train"]["optim"]["learning_rate"] = 0.1
    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    out = snakemake(proj, "all", env=env)
    assert out.returncode != 0
    assert "learning_rate" in out.stdout + out.stderr
    assert not (proj / "data").exists() and not (proj / "logs").exists()


@pytest.mark.integration
def test_a_failing_run_neither_stops_the_others_nor_vanishes_from_the_report(tmp_path):
    proj = make_project(tmp_path)
    params = yaml.safe_load((proj / "params.yaml").read_text())
    demo = params["experiments"]["demo"]
    demo.update(archs=["tsn"], frames=[8])
    broken = json.loads(json.dumps(demo))
    broken.update(archs=["tsm"], description="diverges: the loss becomes NaN")
    broken["train"]["optim"]["lr"] = 1.0e12
    broken["train"]["optim"]["clip_grad_norm"] = None
    params["experiments"]["broken"] = broken
    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"}
    out = snakemake(proj, "all", env=env)
    assert out.returncode != 0  # the failure is not hidden either
    runs = proj / "runs" / "mini-synthetic"
    assert (runs / "tsn-resnet18" / "f8" / "eval" / "metrics.json").is_file()
    failure = json.loads((runs / "tsm-resnet18" / "f8" / "failure.json").read_text())
    assert failure["stage"] == "train" and "loss" in failure["reason"].lower()
    report = (proj / "reports" / "report.md").read_text()
    assert "mini-synthetic/tsm-resnet18/f8" in report and "failed" in report
    assert "mini-synthetic/tsn-resnet18/f8" in report
