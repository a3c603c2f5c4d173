"""MLflow as the place to compare runs, checked through a real `mlflow server`'s REST API.

A tiny train + eval job logs into a tracking server on loopback; the test then reads back, over
HTTP only, what a user of `mlflow ui` would see: provenance tags, system metrics, params, the
config fingerprint, the eval run nested under its train run, the superseded older run after a
config change, and an experiment that opens on the runs table.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from engine_tiny import make_cfg, run_tiny

pytestmark = pytest.mark.integration

EXPERIMENT = "server-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`mlflow server` on a free loopback port, with a SQLite store and served artifacts."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    log = open(root / "server.log", "w")  # noqa: SIM115 - stays open while the server runs
    proc = subprocess.Popen(
        [
            str(mlflow_bin),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{root / 'store.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
        env={k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as resp:
                if resp.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"mlflow server did not start:\n{(root / 'server.log').read_text()}")
        time.sleep(0.5)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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
    assert "clip_top1" in {m["key"] for m in evaluation["data"]["metrics"]}

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
