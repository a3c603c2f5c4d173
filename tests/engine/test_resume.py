"""No lost work: kill -9 and SIGTERM mid-run, rerun, same final weights as an uninterrupted run.

Real subprocesses running the real CLI (with the tiny model); dropout is on so the RNG state
restored from the checkpoint matters.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from engine_tiny import HERE, run_tiny, subprocess_env

from actionbench.engine import checkpoint as ckpt
from actionbench.engine.preemption import EXIT_PREEMPTED
from actionbench.engine.train import train

SLEEP = "0.04"  # seconds per item: an epoch (24 train + 9 val items) takes ~1.3 s


def make(tmp: Path, tiny) -> tuple[dict, Path]:
    cfg = tiny.make_cfg(
        tmp,
        model={"dropout": 0.3},
        schedule={"epochs": 3},
        tracking={"experiment": f"resume-{tmp.name}", "tracking_uri": None},
    )
    path = tmp / "run.json"
    path.write_text(json.dumps(cfg))
    return cfg, path


def reference(tmp: Path, tiny, monkeypatch) -> dict[str, torch.Tensor]:
    """Uninterrupted run of the same config (in-process, no tracking)."""
    cfg = tiny.make_cfg(
        tmp / "ref",
        model={"dropout": 0.3},
        schedule={"epochs": 3},
        tracking={"experiment": "ref", "enabled": False},
    )
    monkeypatch.setattr("actionbench.engine.factory.build_model", tiny.build_model)
    monkeypatch.setattr("actionbench.engine.factory.build_dataset", tiny.build_dataset)
    train(cfg)
    return torch.load(ckpt.final_path(cfg["output_dir"]), weights_only=True)


def start(config: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE / "engine_tiny.py"), str(config), "train"],
        env=subprocess_env(TINY_SLEEP=SLEEP),
        cwd=config.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"trainer exited early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("no checkpoint appeared")
        time.sleep(0.01)


def assert_same_weights(cfg: dict, expected: dict[str, torch.Tensor]) -> None:
    got = torch.load(ckpt.final_path(cfg["output_dir"]), weights_only=True)
    assert got.keys() == expected.keys()
    for key in expected:
        assert torch.equal(got[key], expected[key]), key


def single_mlflow_run(uri: str, cfg: dict):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(cfg["tracking"]["experiment"])
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1, [r.info.run_id for r in runs]
    steps = sorted(m.step for m in client.get_metric_history(runs[0].info.run_id, "loss"))
    return runs[0], steps


def test_kill_9_then_rerun_gives_identical_weights(
    tmp_path, tiny_factory, monkeypatch, mlflow_in_tmp
):
    cfg, config = make(tmp_path, tiny_factory)
    last = ckpt.last_path(cfg["output_dir"])
    proc = start(config)
    wait_for(last, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    interrupted_at = ckpt.load(last)["epoch"]
    assert 1 <= interrupted_at < 3 and not ckpt.final_path(cfg["output_dir"]).exists()

    rerun = run_tiny(config, TINY_SLEEP="0")
    assert rerun.returncode == 0, rerun.stderr
    assert f"resuming from {last} at epoch {interrupted_at + 1}" in rerun.stderr
    assert_same_weights(cfg, reference(tmp_path, tiny_factory, monkeypatch))
    run, steps = single_mlflow_run(mlflow_in_tmp, cfg)  # the resumed job continued the same run
    assert run.info.status == "FINISHED" and steps == [1, 2, 3]


def test_sigterm_saves_mid_epoch_exits_75_and_resumes_exactly(
    tmp_path, tiny_factory, monkeypatch, mlflow_in_tmp
):
    cfg, config = make(tmp_path, tiny_factory)
    last = ckpt.last_path(cfg["output_dir"])
    proc = start(config)
    wait_for(last, proc)
    time.sleep(0.5)  # into epoch 2
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_PREEMPTED, stderr
    assert "rerun the same command to resume" in stderr
    state = ckpt.load(last)
    assert state["step_in_epoch"] >= 1  # saved at the end of a step, not at an epoch boundary
    assert not ckpt.final_path(cfg["output_dir"]).exists()
    run, _ = single_mlflow_run(mlflow_in_tmp, cfg)
    assert run.info.status == "KILLED"

    rerun = run_tiny(config)
    assert rerun.returncode == 0, rerun.stderr
    assert f"step {state['step_in_epoch'] + 1}" in rerun.stderr
    assert_same_weights(cfg, reference(tmp_path, tiny_factory, monkeypatch))
    run, steps = single_mlflow_run(mlflow_in_tmp, cfg)
    assert run.info.status == "FINISHED" and steps == [1, 2, 3]
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["1", "2", "3"]


@pytest.mark.slow
def test_resume_exact_with_dataloader_workers(tmp_path, tiny_factory, monkeypatch):
    """With worker processes the per-item seeding still makes a mid-epoch resume exact."""
    cfg = tiny_factory.make_cfg(
        tmp_path,
        model={"dropout": 0.3},
        schedule={"epochs": 3},
        data={"workers": 2},
        tracking={"experiment": "w", "enabled": False},
    )
    config = tmp_path / "run.json"
    config.write_text(json.dumps(cfg))
    proc = start(config)
    wait_for(ckpt.last_path(cfg["output_dir"]), proc)
    time.sleep(0.5)
    proc.send_signal(signal.SIGUSR1)
    proc.communicate(timeout=60)
    assert proc.returncode == EXIT_PREEMPTED
    assert run_tiny(config).returncode == 0
    assert_same_weights(cfg, reference(tmp_path, tiny_factory, monkeypatch))
