"""The code a job ran with: package version, git commit and whether the tree was dirty.

Recorded with every run (its metrics files and its MLflow run) so that a code change is visible:
runs trained by different commits can be flagged instead of silently compared, and nothing is
re-trained merely because a docstring changed.
"""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

_SRC = Path(__file__).resolve().parents[1]


def _git(*args: str, cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


@functools.lru_cache(maxsize=1)
def code_version(source: str | None = None) -> dict[str, Any]:
    """``{"package_version", "git_commit", "git_dirty"}`` of the actionbench source in use.

    ``git_commit`` is None (and ``git_dirty`` None) when the package is not inside a git work
    tree, e.g. installed from a wheel. Dirty means tracked files differ from the commit; untracked
    files do not count (outputs such as runs/ and data/ live in the same tree).
    """
    cwd = Path(source) if source else _SRC
    try:
        version = metadata.version("actionbench")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit = _git("rev-parse", "HEAD", cwd=cwd)
    dirty = None
    if commit:
        status = _git("status", "--porcelain", "--untracked-files=no", cwd=cwd)
        dirty = bool(status) if status is not None else None
    return {"package_version": version, "git_commit": commit, "git_dirty": dirty}
