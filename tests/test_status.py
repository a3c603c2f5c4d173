"""`actionbench status`: each run's state from what its jobs left on disk, and the re-run cost."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from actionbench.code_version import code_version, source_changed_since
from actionbench.config import expand_grid, run_protocol
from actionbench.dvc_metrics import short_metrics
from actionbench.identity import eval_identity, train_identity, weights_record
from actionbench.planning import record_list_settings
from actionbench.status import grid_status, summary
from study_params import demo_params

PARAMS = demo_params()
TSN8, TSN16 = "mini-synthetic/tsn-resnet18/f8", "mini-synthetic/tsn-resnet18/f16"
TAM8, TAM16 = "mini-synthetic/tam-resnet18/f8", "mini-synthetic/tam-resnet18/f16"
LISTS = Path("data/lists/mini-synthetic")


def write_run(
    root: Path,
    params: dict,
    rid: str,
    code: dict,
    train_seconds=120.0,
    evaluated=True,
    weights=b"weights",
):
    """The files a finished train + evaluate job leaves: config, final.pt, and metrics with the
    code and the identities the jobs record (computed as the jobs compute them)."""
    cfg = run_protocol(params, rid, expand_grid(params))
    cfg["num_classes"] = 8
    d = root / "runs" / rid
    (d / "eval").mkdir(parents=True, exist_ok=True)
    (d / "final.pt").write_bytes(weights + rid.encode())
    (d / "config.json").write_text(json.dumps(cfg))
    metrics = {
        "train_seconds": train_seconds,
        "code": code,
        "identity": train_identity(cfg),
        "final": weights_record(weights + rid.encode()),
    }
    (d / "train_metrics.json").write_text(json.dumps(metrics))
    if evaluated:
        (d / "eval" / "config.json").write_text(json.dumps(cfg))
        record = {"eval_seconds": 6.0, "code": code, "identity": eval_identity(cfg)}
        (d / "eval" / "metrics.json").write_text(json.dumps(record))


@pytest.fixture
def study(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    LISTS.mkdir(parents=True)
    for name in ("train", "val", "classes"):
        (LISTS / f"{name}.csv").write_text(f"{name} rows\n")
    here = code_version()
    for rid in (TSN8, TAM8, TSN16, TAM16):  # sources first: f16 records f8's final.pt digest
        write_run(tmp_path, PARAMS, rid, here)
    return tmp_path, here


def states(params, **kw):
    return {s.run_id: s for s in grid_status(params, **kw)}


def test_all_done_then_each_state(study):
    root, here = study
    if here["git_dirty"] or here["git_commit"] is None:
        pytest.skip("needs a clean git checkout of the package to call runs done by code")
    assert {s.state for s in states(PARAMS).values()} == {"done"}


def test_missing_failed_and_stale_by_params(study):
    root, here = study
    import shutil

    shutil.rmtree(root / "runs" / TAM16)
    (root / "runs" / TSN8 / "failure.json").write_text(
        json.dumps({"stage": "evaluate", "reason": "OOM"})
    )
    (root / "runs" / TSN8 / "eval" / "metrics.json").unlink()
    params = copy.deepcopy(PARAMS)
    params["experiments"]["demo"]["evaluate"]["num_clips"] = 2
    params["experiments"]["demo"]["train"]["stages"]["f16"]["epochs"] = 8
    got = states(params)
    assert got[TAM16].state == "missing" and got[TAM16].train_job
    assert got[TSN8].state == "failed" and "OOM" in got[TSN8].detail
    assert got[TSN8].train_job is False  # it failed in evaluation: the model is kept
    assert (
        got[TSN16].state == "stale-by-params" and got[TSN16].detail == "training settings changed"
    )
    # f16 doubled its epochs: twice the recorded 120 s, plus the recorded evaluation
    assert got[TSN16].seconds == pytest.approx(240.0 + 6.0)
    assert (
        got[TAM8].state == "stale-by-params" and got[TAM8].detail == "evaluation settings changed"
    )
    assert got[TAM8].train_job is False and got[TAM8].seconds == pytest.approx(6.0)
    # a missing run is priced from the same model's recorded time per epoch and frame
    # (train: 120 s / (12 epochs x 8 frames) x 8 epochs x 16 frames; eval: 6 s / 8 frames x 16)
    assert got[TAM16].seconds == pytest.approx(120.0 / (12 * 8) * 8 * 16 + 6.0 / 8 * 16)
    total = summary(list(got.values()))
    assert total["counts"] == {"missing": 1, "stale-by-params": 2, "failed": 1}
    assert total["train_jobs"] == 2 and total["eval_jobs"] == 4 and total["without_estimate"] == 0


def test_mlflow_rename_leaves_every_run_as_it_was(study):
    params = copy.deepcopy(PARAMS)
    params["project"]["mlflow_experiment"] = "renamed"
    assert {s.state for s in states(params).values()} <= {"done", "stale-by-code"}


def test_a_retrained_source_makes_its_descendant_stale(study):
    root, here = study
    write_run(root, PARAMS, TAM8, here, weights=b"re-trained")
    got = states(PARAMS)
    assert got[TAM8].state in ("done", "stale-by-code")
    assert got[TAM16].state == "stale-by-init" and got[TAM16].train_job
    assert "the source run was re-trained" in got[TAM16].detail


def test_a_source_that_will_be_retrained_takes_its_descendants_along(study):
    params = copy.deepcopy(PARAMS)
    params["experiments"]["demo"]["train"]["stages"]["f8"]["epochs"] = 3
    got = states(params)
    assert got[TSN8].state == "stale-by-params"
    # f16's own protocol digest holds f8's: the chain is stale by params as well
    assert got[TSN16].state == "stale-by-params" and got[TSN16].train_job


def test_changed_data_and_weights_are_their_own_states(study):
    root, here = study
    (LISTS / "train.csv").write_text("an edited train list\n")
    got = states(PARAMS)
    assert {got[r].state for r in (TSN8, TAM8, TSN16, TAM16)} == {"stale-by-data"}
    assert "data changed (train list" in got[TSN8].detail
    # validation data changes only the evaluations
    for rid in (TSN8, TAM8, TSN16, TAM16):
        write_run(root, PARAMS, rid, here)
    (LISTS / "val.csv").write_text("an edited val list\n")
    got = states(PARAMS)
    assert got[TSN8].state == "stale-by-data" and not got[TSN8].train_job and got[TSN8].eval_job


def test_settings_that_rebuild_the_lists_make_the_runs_stale_before_the_data_stage_runs(study):
    """Status agrees with Snakemake's plan right after the edit: the lists are rebuilt (their
    settings.json records what they were built with) and every run reading them re-trains."""
    record_list_settings_of(PARAMS)
    assert {s.state for s in states(PARAMS).values()} <= {"done", "stale-by-code"}
    edited = copy.deepcopy(PARAMS)
    edited["datasets"]["synthetic"]["extract"]["short_side"] = 32
    got = states(edited)
    assert {got[r].state for r in (TSN8, TAM8, TSN16, TAM16)} == {"stale-by-data"}
    assert all(got[r].train_job for r in got)
    assert "frames.short_side: 40 -> 32" in got[TSN8].detail, got[TSN8].detail
    reseeded = copy.deepcopy(PARAMS)
    reseeded["datasets"]["synthetic"]["mini"]["seed"] = 5
    assert "mini.seed: 0 -> 5" in states(reseeded)[TAM16].detail
    # where the work is split or the raw videos live does not change the lists
    moved = copy.deepcopy(PARAMS)
    moved["datasets"]["synthetic"]["extract"].update(shards=3, workers=1)
    moved["datasets"]["synthetic"]["raw_dir"] = "elsewhere/synthetic"
    assert {s.state for s in states(moved).values()} <= {"done", "stale-by-code"}


def record_list_settings_of(params: dict) -> None:
    """What the mini job writes beside the lists it builds (from a params file, as the rule)."""
    Path("params.yaml").write_text(yaml.safe_dump(params))  # validated by the packaged schema
    record_list_settings("params.yaml", "mini-synthetic", LISTS)


def test_an_evaluation_of_an_earlier_model_is_missing(study):
    root, here = study
    d = root / "runs" / TSN16
    record = json.loads((d / "train_metrics.json").read_text())
    (d / "final.pt").write_bytes(b"trained again, same identity")
    record["final"] = weights_record(b"trained again, same identity")
    (d / "train_metrics.json").write_text(json.dumps(record))
    got = states(PARAMS)[TSN16]
    assert got.state == "missing" and "earlier final.pt" in got.detail
    assert got.eval_job and not got.train_job


def test_a_propagated_source_marks_a_done_descendant():
    """A source that will be re-trained (here: never recorded) re-trains its descendants."""
    from actionbench.status import RunStatus, _propagate_from_sources

    out = {
        TSN8: RunStatus(TSN8, "missing", "not trained", train_job=True, eval_job=True),
        TSN16: RunStatus(TSN16, "done"),
    }
    current = {TSN8: {"init": {"kind": "scratch"}}, TSN16: {"init": {"source_run": TSN8}}}
    _propagate_from_sources(out, current)
    assert out[TSN16].state == "stale-by-init" and out[TSN16].train_job
    assert TSN8 in out[TSN16].detail


def test_stale_by_code(study, tmp_path):
    root, here = study
    old = {**here, "git_commit": "0" * 40, "git_dirty": False}
    write_run(root, PARAMS, TSN8, {**here, "git_dirty": True})
    write_run(root, PARAMS, TAM8, old)
    got = states(PARAMS)
    assert got[TSN8].state == "stale-by-code" and "uncommitted" in got[TSN8].detail
    # an unknown commit cannot be compared: not flagged from guesswork
    assert got[TAM8].state in ("done", "stale-by-code")


def test_source_changed_since_compares_the_package_only(tmp_path):
    repo = tmp_path / "repo"
    pkg = repo / "src" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (repo / "README.md").write_text("hello\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@x"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=repo, check=True)
    first = code_version(pkg)
    assert first["git_dirty"] is False and len(first["git_commit"]) == 40
    (repo / "README.md").write_text("changed\n")
    subprocess.run([*git, "commit", "-qam", "docs"], cwd=repo, check=True)
    assert source_changed_since(first["git_commit"], pkg) is False
    (pkg / "a.py").write_text("x = 2\n")
    assert source_changed_since(first["git_commit"], pkg) is True
    assert source_changed_since("f" * 40, pkg) is None


def test_short_metrics_are_numbers_only():
    report = {
        "mini/tam-resnet18/f8": {
            "clip_top1": 90.0,
            "video_top1": 91.5,
            "epochs": 12,
            "arch": "tam",
        },
        "mini/tsn-resnet18/f8": {"clip_top1": float("nan"), "video_top1": 70.0},
        "contributions": {
            "mini/all classes/tam": {
                "classes": "all classes",
                "dataset": "mini",
                "arch": "tam",
                "phi": 0.74,
                "psi_ta": 0.97,
            },
            "mini/spatial classes/tam": {"classes": "spatial classes", "phi": 0.9, "psi_ta": 0.1},
        },
    }
    short = short_metrics(report)
    assert short == {
        "clip": {"mini/tam-resnet18/f8": 90.0},
        "phi": {"mini/tam": 0.74},
        "psi": {"mini/tam": 0.97},
        "video": {"mini/tam-resnet18/f8": 91.5, "mini/tsn-resnet18/f8": 70.0},
    }
    assert list(short) == ["clip", "phi", "psi", "video"]  # DVC's column order: clip top-1 first


def test_the_display_prices_in_minutes_below_an_hour_and_links_mlflow(study, capsys):
    from actionbench.cli import main
    from actionbench.cli.status import duration
    from actionbench.engine import tracking

    assert [duration(s) for s in (None, 20, 246, 3599, 3600, 5400)] == [
        "?", "<1 min", "4 min", "60 min", "1.0 h", "1.5 h",
    ]  # fmt: skip
    root, _ = study
    import shutil

    shutil.rmtree(root / "runs" / TAM16)
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    assert main(["status", "--params", "params.yaml"]) == 0
    out = capsys.readouterr().out
    seconds = states(PARAMS)[TAM16].seconds  # priced from TAM f8's recorded 120 s: minutes
    assert 60 < seconds < 3600
    (row,) = [line.split() for line in out.splitlines() if line.startswith(TAM16)]
    assert row[1:4] == ["missing", *duration(seconds).split()]  # "3 min", not "0.06 h"
    assert re.search(r"about \d+ min of recorded step time", out), out
    assert "MLflow" not in out  # no store yet: nothing to link (and none is created)
    # once a job has logged into the store, status says where `mlflow ui` shows the runs table
    cfg = run_protocol(PARAMS, TSN8)
    tracker = tracking.Tracker(cfg, "eval")
    tracker.start()
    tracker.end()
    assert main(["status", "--params", "params.yaml"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("MLflow runs table: run `mlflow ui`, then open http://127.0.0.1:5000/#/")
    assert line.endswith(
        tracking.ui_path(tracker._client.get_run(tracker.run_id).info.experiment_id)
    )
