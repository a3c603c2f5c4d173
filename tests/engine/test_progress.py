"""Progress: no bar under SLURM or without a terminal; log lines carry an ETA instead."""

from __future__ import annotations

import logging

from actionbench import progress


def test_no_bar_under_slurm_or_without_tty(monkeypatch):
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert progress.use_bar()
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert not progress.use_bar()
    monkeypatch.delenv("SLURM_JOB_ID")
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: False, raising=False)
    assert not progress.use_bar()


def test_log_lines_with_eta(monkeypatch, caplog):
    monkeypatch.setattr(progress, "use_bar", lambda: False)
    clock = iter([100.0, 101.0, 102.0, 104.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    caplog.set_level(logging.INFO, logger="actionbench.progress")
    bar = progress.Progress(total=4, desc="epoch 1/3", interval_s=1.5, initial=1)
    bar.update(1, loss=0.5)  # t=101: 1 s since start, below the interval: silent
    bar.update(1, loss=0.25)  # t=102: 2 steps in 2 s -> 1 step left, ETA 1 s
    bar.update(1)  # t=104: done
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("epoch 1/3 3/4 elapsed 0:00:02 eta 0:00:01 1 it/s loss=0.25")
    assert lines[1].startswith("epoch 1/3 4/4 elapsed 0:00:04 eta 0:00:00 0.75 it/s")
    assert len(lines) == 2
