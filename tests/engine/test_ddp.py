"""DistributedDataParallel on CPU (gloo): 2 processes == 1 process with the same global batch."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pandas as pd
import pytest
import torch
from engine_tiny import HERE, subprocess_env

from actionbench.engine import checkpoint as ckpt
from actionbench.engine.evaluate import evaluate
from actionbench.engine.train import train

NO_TRACKING = {"experiment": "ddp", "enabled": False}


def single_process(tmp, tiny, **optim) -> dict[str, torch.Tensor]:
    cfg = tiny.make_cfg(tmp / "single", tracking=NO_TRACKING, schedule={"epochs": 2}, optim=optim)
    train(cfg)
    return torch.load(ckpt.final_path(cfg["output_dir"]), weights_only=True)


def torchrun_two(config, action: str, cwd) -> subprocess.CompletedProcess:
    """The tiny engine entry point under torchrun with 2 CPU processes (gloo)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nnodes=1",
            "--nproc-per-node=2",
            str(HERE / "engine_tiny.py"),
            str(config),
            action,
        ],
        env=subprocess_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def assert_close(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=1e-5, atol=1e-6)


def test_torchrun_two_processes_match_one(tmp_path, tiny_factory):
    cfg = tiny_factory.make_cfg(tmp_path / "ddp", tracking=NO_TRACKING, schedule={"epochs": 2})
    config = tmp_path / "ddp.json"
    config.write_text(json.dumps(cfg))
    proc = torchrun_two(config, "train", tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rank 1/2 joined (gloo on cpu)" in proc.stderr
    metrics = json.loads((tmp_path / "ddp" / "run" / "train_metrics.json").read_text())
    assert metrics["world_size"] == 2
    ddp = torch.load(ckpt.final_path(cfg["output_dir"]), weights_only=True)
    assert_close(ddp, single_process(tmp_path, tiny_factory))
    # same training curve too: the global batches held the same videos
    single_hist = (tmp_path / "single" / "run" / "history.csv").read_text().splitlines()
    ddp_hist = (tmp_path / "ddp" / "run" / "history.csv").read_text().splitlines()
    for a, b in zip(single_hist[1:], ddp_hist[1:], strict=True):
        assert [round(float(x), 4) for x in a.split(",")[:5]] == [
            round(float(x), 4) for x in b.split(",")[:5]
        ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_srun_style_launch_with_accumulation_matches_one(tmp_path, tiny_factory):
    """Two tasks as ``srun`` starts them (SLURM_* only, no torchrun), with accum_steps=2."""
    cfg = tiny_factory.make_cfg(
        tmp_path / "srun", tracking=NO_TRACKING, schedule={"epochs": 2}, optim={"accum_steps": 2}
    )
    config = tmp_path / "srun.json"
    config.write_text(json.dumps(cfg))
    port = str(_free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "engine_tiny.py"), str(config), "train"],
            env=subprocess_env(
                SLURM_PROCID=str(rank),
                SLURM_NTASKS="2",
                SLURM_LOCALID=str(rank),
                SLURM_NODELIST="localhost",
                MASTER_PORT=port,
                SLURM_JOB_ID="1",
            ),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    ddp = torch.load(ckpt.final_path(cfg["output_dir"]), weights_only=True)
    assert_close(ddp, single_process(tmp_path, tiny_factory))


@pytest.mark.slow
def test_torchrun_evaluation_matches_single_process(tmp_path, tiny_factory):
    """Sharded evaluation gathers every video once, in list order."""
    cfg = tiny_factory.make_cfg(tmp_path, tracking=NO_TRACKING, schedule={"epochs": 1}, n_val=7)
    train(cfg)
    single = evaluate(cfg)
    single_pred = pd.read_csv(tmp_path / "run" / "eval" / "predictions.csv")
    config = tmp_path / "run.json"
    config.write_text(json.dumps(cfg))
    proc = torchrun_two(config, "evaluate", tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sharded = json.loads((tmp_path / "run" / "eval" / "metrics.json").read_text())
    kept = [k for k in single if k not in ("eval_seconds", "code")]
    numbers = [k for k in kept if isinstance(single[k], (int, float))]
    assert sorted(sharded) == sorted(single)
    assert {k: sharded[k] for k in numbers} == pytest.approx({k: single[k] for k in numbers})
    # the same evaluation: its identity and the checkpoint it scored
    assert {k: sharded[k] for k in kept if k not in numbers} == {
        k: single[k] for k in kept if k not in numbers
    }
    sharded_pred = pd.read_csv(tmp_path / "run" / "eval" / "predictions.csv")
    pd.testing.assert_frame_equal(
        sharded_pred, single_pred, rtol=1e-5
    )  # batches differ: BLAS rounding
