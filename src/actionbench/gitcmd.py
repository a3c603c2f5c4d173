"""Read-only git queries, in one place: code provenance (engine) and the report (analysis).

Never touches the index (``GIT_OPTIONAL_LOCKS=0``), never raises: a machine without git, a tree
outside a checkout or a hung git gives ``None`` and the caller records "unknown".
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TIMEOUT_S = 20


def run_git(cwd: str | os.PathLike, *args: str) -> subprocess.CompletedProcess | None:
    """``git ARGS`` in ``cwd``; None when git cannot be run at all."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read-only: never touch the index
    try:
        return subprocess.run(
            ["git", *args],
            cwd=Path(cwd),
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def git_output(cwd: str | os.PathLike, *args: str) -> str | None:
    """Stripped stdout of a successful ``git ARGS`` in ``cwd``, else None."""
    out = run_git(cwd, *args)
    return out.stdout.strip() if out is not None and out.returncode == 0 else None
