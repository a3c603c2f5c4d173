"""Graceful pre-emption: SIGTERM / SIGUSR1 / SIGINT (Ctrl-C) ask training to checkpoint and stop.

SLURM sends SIGTERM (or, with ``--signal=USR1@120``, SIGUSR1) before killing a pre-empted or
timed-out job. The handler only sets a flag; the training loop checks it at the end of each
optimizer step (a safe point: no half-applied update), writes ``last.pt`` and raises
:class:`Preempted`. The CLI exits with :data:`EXIT_PREEMPTED` so a wrapper can requeue; the
rerun resumes from the saved step.

Ctrl-C is the same request from a terminal: the partial epoch is saved, the job exits 75 with
the message, no traceback. A second Ctrl-C stops at once (KeyboardInterrupt, nothing saved) for
when the current step hangs. DataLoader workers forked while the handler is installed inherit it;
it does nothing there (the terminal sends Ctrl-C to the whole process group, and the workers
must keep serving the batches of the step being finished).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

log = logging.getLogger(__name__)

# sysexits.h EX_TEMPFAIL: "temporary failure, the user is invited to retry".
EXIT_PREEMPTED = 75

SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)


class Preempted(Exception):
    """Training stopped on request after saving its state; rerun the same command to resume."""

    exit_code = EXIT_PREEMPTED

    def __init__(self, checkpoint: str, signum: int) -> None:
        super().__init__(
            f"stopped by {signal.Signals(signum).name}; state saved to {checkpoint}; "
            "rerun the same command to resume"
        )
        self.checkpoint = checkpoint
        self.signum = signum


class StopFlag:
    """Context manager installing the handlers; ``flag.signum`` is set once a signal arrives."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}
        self._pid = os.getpid()

    def __bool__(self) -> bool:
        return self.signum is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self._pid:  # a forked DataLoader worker: the main process decides
            return
        if signum == signal.SIGINT and self.signum == signal.SIGINT:
            log.warning("second Ctrl-C: stopping now, without saving this step")
            raise KeyboardInterrupt
        if self.signum is None:
            log.warning(
                "received %s: will save a checkpoint after the current step and stop",
                signal.Signals(signum).name,
            )
        self.signum = signum

    def __enter__(self) -> StopFlag:
        self._pid = os.getpid()
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        else:  # signal handlers can only be installed from the main thread
            log.debug("not in the main thread: SIGTERM/SIGUSR1 will not checkpoint")
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()
