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
