"""Ctrl-C behaves like SIGTERM (issue 12, item 3): checkpoint mid-epoch, exit 75, a message and
no traceback, and the rerun resumes from the saved step.

A terminal sends SIGINT to the whole foreground process group, DataLoader workers included; the
test does the same (``killpg``) on a job with a worker process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from engine_tiny import HERE, run_tiny, subprocess_env

from actionbench.engine import checkpoint as ckpt
from actionbench.engine.preemption import EXIT_PREEMPTED


def test_ctrl_c_saves_the_partial_epoch_exits_75_and_resumes(tmp_path, tiny_factory):
    cfg = tiny_factory.make_cfg(
        tmp_path,
        schedule={"epochs": 2},
        data={"workers": 1},
        tracking={"experiment": "ctrl-c", "enabled": False},
    )
    config = tmp_path / "run.json"
    config.write_text(json.dumps(cfg))
    last = ckpt.last_path(cfg["output_dir"])
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "engine_tiny.py"), str(config), "train"],
        env=subprocess_env(TINY_SLEEP="0.05"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a job in a terminal
    )
    deadline = time.monotonic() + 60
    while not last.exists():  # end of epoch 1
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.01)
    time.sleep(0.4)  # into epoch 2
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_PREEMPTED, stderr
    assert "received SIGINT: will save a checkpoint after the current step and stop" in stderr
    assert "stopped by SIGINT; state saved to" in stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    state = ckpt.load(last)
    assert state["epoch"] == 1 and state["step_in_epoch"] >= 1  # the partial epoch is kept
    rerun = run_tiny(config)
    assert rerun.returncode == 0, rerun.stderr
    assert f"at epoch 2, step {state['step_in_epoch'] + 1}" in rerun.stderr
    assert ckpt.final_path(cfg["output_dir"]).exists()
