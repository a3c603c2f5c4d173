"""The code stays lint-clean and formatted (ruff, configured in pyproject.toml).

Without this gate, unformatted files crept in unnoticed (13 of them by the time anyone looked):
CI now fails on the first one and names it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CODE = ["src", "tests", "scripts"]


def _ruff() -> list[str]:
    beside_python = Path(sys.executable).parent / "ruff"
    found = str(beside_python) if beside_python.exists() else shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed: it is a dev dependency (pip install -e '.[dev]')")
    return [found]


@pytest.mark.parametrize(
    "check", [["check"], ["format", "--check"]], ids=["ruff-check", "ruff-format"]
)
def test_code_passes_ruff(check):
    done = subprocess.run(
        [*_ruff(), *check, *CODE], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
