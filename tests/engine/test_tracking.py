"""MLflow: the default store is what `mlflow ui` opens; parallel jobs lose no run."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from engine_tiny import make_cfg, subprocess_env, tracking_cfg

from actionbench.engine import tracking


def test_default_store_is_mlflow_ui_default(tmp_path, monkeypatch):
    from mlflow.tracking._tracking_service.utils import _get_default_tracking_uri

    monkeypatch.chdir(tmp_path)
    assert _get_default_tracking_uri() == "sqlite:///mlflow.db"  # what `mlflow ui` opens
    assert tracking.default_uri() == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    (tmp_path / "mlruns" / "0").mkdir(parents=True)
    (tmp_path / "mlruns" / "0" / "meta.yaml").write_text("name: Default\n")
    assert _get_default_tracking_uri() == "./mlruns"  # an existing file store keeps winning
    assert tracking.default_uri() == (tmp_path / "mlruns").resolve().as_uri()


def test_environment_beats_config_beats_default(tmp_path, monkeypatch):
    cfg = {"tracking": {"tracking_uri": "sqlite:////from/config.db"}}
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////from/env.db")
    assert tracking.resolve_uri(cfg) == "sqlite:////from/env.db"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert tracking.resolve_uri(cfg) == "sqlite:////from/config.db"
    monkeypatch.chdir(tmp_path)
    assert tracking.resolve_uri({"tracking": {"tracking_uri": None}}).endswith(
        f"{tmp_path.name}/mlflow.db"
    )


def test_relative_sqlite_uri_keeps_artifacts_beside_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///sub/store.db")
    cfg = tracking_cfg("d/tsn-r/f8", "rel")
    tracker = tracking.Tracker(cfg, "eval")
    tracker.start()
    tracker.end()
    assert (tmp_path / "sub" / "store.db").is_file() and (
        tmp_path / "sub" / "store.db.lock"
    ).exists()
    from mlflow.tracking import MlflowClient

    run = MlflowClient("sqlite:///sub/store.db").get_run(tracker.run_id)
    assert run.info.artifact_uri.startswith((tmp_path / "sub" / "mlruns" / "rel").as_uri())


def test_params_are_flat_and_clipped():
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

    params = tracking.flat_params(
        {"optim": {"lr": 0.01, "milestones": [10, 20]}, "note": "x" * 10000}
    )
    assert params["optim.lr"] == "0.01" and params["optim.milestones"] == "[10, 20]"
    assert len(params["note"]) == MAX_PARAM_VAL_LENGTH and params["note"].endswith("...")


JOB = textwrap.dedent(
    """
    import json, sys
    from actionbench.engine.tracking import Tracker
    cfg = json.loads(open(sys.argv[1]).read())
    tracker = Tracker(cfg, "train")
    tracker.start()
    for epoch in range(1, 4):
        tracker.log_metrics({"loss": 1.0 / epoch, "val_top1": None}, step=epoch)
    tracker.set_tags({"checkpoint": cfg["output_dir"] + "/final.pt"})
    tracker.log_artifacts([cfg["data"]["train_list"]])
    tracker.end()
    """
)  # no torch import: the jobs' cost is MLflow's own


def test_parallel_jobs_on_a_fresh_default_store_lose_no_run(tmp_path):
    """N jobs racing to create the default store (what happens on a first `snakemake -j N`)."""
    jobs = 4
    env = subprocess_env()
    env.pop("MLFLOW_TRACKING_URI")  # the default store, in the jobs' working directory
    configs = []
    for i in range(jobs):
        cfg = make_cfg(
            tmp_path / f"job{i}",
            run_id=f"tiny/tsn-tiny/f{i}",
            tracking={"experiment": f"parallel-{tmp_path.name}", "tracking_uri": None},
        )
        configs.append(tmp_path / f"job{i}.json")
        configs[-1].write_text(json.dumps(cfg))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", JOB, str(config)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for config in configs
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * jobs, outputs

    from mlflow.tracking import MlflowClient

    assert (tmp_path / "mlflow.db").is_file()
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(f"parallel-{tmp_path.name}")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_name for r in runs) == sorted(
        f"tiny/tsn-tiny/f{i}" for i in range(jobs)
    )
    for run in runs:
        assert run.info.status == "FINISHED"
        assert run.data.tags["stage"] == "train" and run.data.tags["dataset"] == "tiny"
        assert run.data.params["optim.lr"] == "0.1"
        assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [1, 2, 3]
        assert "val_top1" not in run.data.metrics
        assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["train.csv"]
        assert run.info.artifact_uri.startswith((tmp_path / "mlruns").resolve().as_uri())


def test_a_copied_checkout_writes_artifacts_into_its_own_store(tmp_path, monkeypatch):
    """MLflow stores absolute artifact locations; a copy of the checkout must not write into
    the original's mlruns/ (issue 21): its store is repointed at the copy on first use."""
    import shutil

    from mlflow.tracking import MlflowClient

    cfg = tracking_cfg("d/tsn-r/f8", "portable")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    original, copy = tmp_path / "original", tmp_path / "copy"
    original.mkdir()
    (original / "config.json").write_text("{}")
    monkeypatch.chdir(original)  # the default store: ./mlflow.db, artifacts in ./mlruns
    first = tracking.Tracker(cfg, "train")
    run_id = first.start()
    first.log_artifacts([original / "config.json"])
    first.end("KILLED")  # pre-empted: the copy resumes this run
    shutil.copytree(original, copy)

    monkeypatch.chdir(copy)
    resumed = tracking.Tracker(cfg, "train")
    assert resumed.start(run_id) == run_id
    resumed.log_artifacts([copy / "config.json"], subdir="resumed")
    resumed.end()
    fresh = tracking.Tracker(cfg, "eval")
    fresh_id = fresh.start()
    fresh.log_artifacts([copy / "config.json"])
    fresh.end()

    client = MlflowClient(f"sqlite:///{copy}/mlflow.db")
    for rid in (run_id, fresh_id):
        uri = client.get_run(rid).info.artifact_uri
        assert uri.startswith((copy / "mlruns").as_uri() + "/"), uri
    assert client.get_experiment_by_name("portable").artifact_location.startswith(
        (copy / "mlruns").as_uri()
    )
    assert list((copy / "mlruns").rglob("resumed/config.json"))
    assert not list((original / "mlruns").rglob("resumed/config.json"))
    assert len(list((original / "mlruns").rglob("config.json"))) == 1  # the original's own
    # the original store still points at itself
    before = MlflowClient(f"sqlite:///{original}/mlflow.db").get_run(run_id).info.artifact_uri
    assert before.startswith((original / "mlruns").as_uri() + "/")


def test_the_same_store_reached_by_another_path_is_not_relocated(tmp_path):
    (tmp_path / "real" / "mlruns" / "exp").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    location = (tmp_path / "real" / "mlruns" / "exp").as_uri()
    assert tracking.relocate_artifacts(tmp_path / "link" / "mlflow.db", location) is False
