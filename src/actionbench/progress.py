"""Progress for long loops: a tqdm bar on a terminal, periodic log lines with ETA elsewhere.

Batch jobs (SLURM, Snakemake, CI) write stderr to files, where a carriage-return progress bar
turns into megabytes of noise; there a line every ``interval_s`` seconds, with the rate and
the ETA, is more useful. Every long loop of the package (training, evaluation, synthetic
rendering, frame extraction, profiling) goes through ``Progress``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from tqdm import tqdm

log = logging.getLogger("actionbench.progress")


def use_bar() -> bool:
    """A bar only on an interactive terminal and never under SLURM."""
    return sys.stderr.isatty() and "SLURM_JOB_ID" not in os.environ


def _fmt_seconds(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}"


class Progress:
    """``update(n, **stats)`` per step; ``close()`` at the end. Silent when ``enabled`` is False."""

    def __init__(
        self,
        total: int,
        desc: str,
        enabled: bool = True,
        interval_s: float = 30.0,
        initial: int = 0,
        unit: str = "it",
    ) -> None:
        self.total = total
        self.desc = desc
        self.enabled = enabled
        self.interval_s = interval_s
        self.unit = unit
        self.initial = self.done = initial  # steps done before a resume: not part of the rate
        self.start = time.monotonic()
        self._last_log = self.start
        self._bar = (
            tqdm(
                total=total, initial=initial, desc=desc, unit=unit, dynamic_ncols=True, leave=False
            )
            if enabled and use_bar()
            else None
        )

    def update(self, n: int = 1, **stats: Any) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
            if stats:
                self._bar.set_postfix({k: _short(v) for k, v in stats.items()}, refresh=False)
            return
        now = time.monotonic()
        if now - self._last_log >= self.interval_s or self.done >= self.total:
            self._last_log = now
            elapsed = now - self.start
            rate = (self.done - self.initial) / elapsed if elapsed > 0 else 0.0
            eta = (self.total - self.done) / rate if rate > 0 else float("nan")
            extra = " ".join(f"{k}={_short(v)}" for k, v in stats.items())
            log.info(
                "%s %d/%d elapsed %s eta %s %.3g %s/s %s",
                self.desc,
                self.done,
                self.total,
                _fmt_seconds(elapsed),
                _fmt_seconds(eta) if eta == eta else "?",
                rate,
                self.unit,
                extra,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
