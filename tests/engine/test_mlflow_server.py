"""MLflow as the place to compare runs, checked through a real `mlflow server`'s REST API.

A tiny train + eval job logs into a tracking server on loopback; the test then reads back, over
HTTP only, what a user of `mlflow ui` would see: provenance tags, system metrics, params, the
config fingerprint, the eval run nested under its train run, the superseded older run after a
config change, the eval run's GFLOPs and parameters, and the experiment's kind tag (what the
UI shows in a browser: test_mlflow_ui.py).
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest
from engine_tiny import make_cfg, run_tiny

pytestmark = pytest.mark.integration

EXPERIMENT = "server-test"


def _get(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=30) as resp:
        return json.loads(resp.read())


def _post(base: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


@pytest.fixture
def server(mlflow_server_url):
    return mlflow_server_url


def _runs(base: str, experiment_id: str, stage: str) -> list[dict]:
    found = _post(
        base,
        "/api/2.0/mlflow/runs/search",
        {
            "experiment_ids": [experiment_id],
            "filter": f"tags.stage = '{stage}'",
            "order_by": ["attributes.start_time ASC"],
        },
    )
    return found.get("runs", [])


def _tags(run: dict) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["data"].get("tags", [])}


def test_runs_carry_provenance_links_and_fingerprints(server, tmp_path):
    env = {
        "MLFLOW_TRACKING_URI": server,
        "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL": "0.2",
        "DVC_EXP_NAME": "lucky-lynx",
        "TINY_SLEEP": "0.3",  # each step sleeps: the job lives long enough for system samples
    }
    cfg = make_cfg(tmp_path, tracking={"experiment": EXPERIMENT, "tracking_uri": None})
    config = tmp_path / "run.json"
    config.write_text(json.dumps(cfg))
    for command in ("train", "evaluate"):
        done = run_tiny(config, command, timeout=300, **env)
        assert done.returncode == 0, done.stderr[-3000:]

    experiment = _get(
        server, f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={EXPERIMENT}"
    )["experiment"]
    kind = {t["key"]: t["value"] for t in experiment.get("tags", [])}
    assert kind["mlflow.experimentKind"] == "custom_model_development"  # opens on the runs table
    exp_id = experiment["experiment_id"]

    (train,) = _runs(server, exp_id, "train")
    tags = _tags(train)
    assert train["info"]["run_name"] == cfg["run_id"]
    assert len(tags["mlflow.source.git.commit"]) == 40  # tests run inside the repository
    assert tags["actionbench.git_commit"] == tags["mlflow.source.git.commit"]
    assert tags["actionbench.git_dirty"] in ("true", "false")
    assert tags["actionbench.host"] == socket.gethostname()
    assert tags["actionbench.device"] == "cpu" and tags["actionbench.device_name"]
    assert tags["actionbench.torch"].split("+")[0].count(".") == 2
    assert tags["actionbench.cuda"] and tags["actionbench.python"]
    assert tags["actionbench.dvc_exp"] == "lucky-lynx"
    assert len(tags["actionbench.config_fingerprint"]) == 16
    params = {p["key"]: p["value"] for p in train["data"]["params"]}
    assert params["optim.lr"] == str(cfg["optim"]["lr"]) and params["run_id"] == cfg["run_id"]
    metric_keys = {m["key"] for m in train["data"]["metrics"]}
    assert {"loss", "train_top1"} <= metric_keys
    assert any(k.startswith("system/cpu_utilization") for k in metric_keys), metric_keys

    (evaluation,) = _runs(server, exp_id, "eval")
    eval_tags = _tags(evaluation)
    assert eval_tags["mlflow.parentRunId"] == train["info"]["run_id"]  # nested under its train
    assert eval_tags["actionbench.config_fingerprint"] == tags["actionbench.config_fingerprint"]
    eval_metrics = {m["key"]: m["value"] for m in evaluation["data"]["metrics"]}
    assert "clip_top1" in eval_metrics
    assert eval_metrics["gflops"] > 0 and eval_metrics["params_m"] > 0  # the view's cost columns

    # the same run id re-trained with a changed config: a new, distinguishable run
    cfg["optim"]["lr"] = cfg["optim"]["lr"] / 2
    config.write_text(json.dumps(cfg))
    done = run_tiny(config, "train", timeout=300, **env)
    assert done.returncode == 0, done.stderr[-3000:]
    old, new = _runs(server, exp_id, "train")
    assert old["info"]["run_id"] == train["info"]["run_id"]
    new_tags = _tags(new)
    assert new_tags["actionbench.config_fingerprint"] != tags["actionbench.config_fingerprint"]
    assert _tags(old)["actionbench.superseded_by"] == new["info"]["run_id"]
    assert "actionbench.superseded_by" not in new_tags
