"""Which code trained or evaluated a run: package version, git commit, uncommitted changes.

Snakemake does not re-train when ``src/`` changes (a 288-model study must not restart because a
docstring changed), so the code version is recorded instead: every train and eval job writes
``code_version()`` into ``train_metrics.json`` / ``eval/metrics.json`` under ``"code"``.
``actionbench status`` compares it with the checkout to flag runs as stale by code, and the report
flags comparisons between runs of different commits.

The commit is the one of the git checkout the imported ``actionbench`` package lives in; the dirty
flag covers uncommitted changes to tracked files of that package only (an edited README or
params.yaml does not change what the code computes). Outside a git checkout (an installed wheel)
``git_commit`` and ``git_dirty`` are ``None``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from actionbench import __version__
from actionbench.gitcmd import git_output, run_git

PACKAGE_DIR = Path(__file__).resolve().parent


def code_version(package_dir: str | os.PathLike | None = None) -> dict:
    """``{"package_version", "git_commit", "git_dirty"}`` of the code in ``package_dir``."""
    return dict(_code_version(str(Path(package_dir or PACKAGE_DIR).resolve())))


@functools.lru_cache(maxsize=8)
def _code_version(package_dir: str) -> tuple:
    where = Path(package_dir)
    commit = git_output(where, "rev-parse", "HEAD")
    dirty = None
    if commit:
        status = git_output(where, "status", "--porcelain", "--untracked-files=no", "--", ".")
        dirty = None if status is None else bool(status)
    return (("package_version", __version__), ("git_commit", commit), ("git_dirty", dirty))


def source_changed_since(
    commit: str | None, package_dir: str | os.PathLike | None = None
) -> bool | None:
    """Whether the package source differs from ``commit`` (committed or not); None: unknown.

    A commit that only touched docs or params.yaml does not count: only the package's files are
    compared, so ``actionbench status`` calls a run stale by code only when the code changed.
    """
    if not commit:
        return None
    where = Path(package_dir or PACKAGE_DIR).resolve()
    out = run_git(where, "diff", "--quiet", commit, "--", ".")
    if out is None:
        return None
    if out.returncode in (0, 1):
        return out.returncode == 1
    return None  # unknown commit (another clone, a rewritten history)
