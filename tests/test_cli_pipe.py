"""A command whose reader leaves (`actionbench status | head -1`) stops quietly: no traceback, no
"Exception ignored" at exit, the exit status a shell gives such a writer (141)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from actionbench.config import expand_grid
from study_params import demo_params


def test_a_reader_that_leaves_gets_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(demo_params()))
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from actionbench.cli import main; sys.exit(main())",
         "grid", "--params", "params.yaml", "--list"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()  # the reader is gone before the command writes a line
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


def test_a_reader_that_stays_gets_every_line(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(demo_params()))
    out = subprocess.run(
        [sys.executable, "-c", "import sys; from actionbench.cli import main; sys.exit(main())",
         "grid", "--params", "params.yaml", "--list"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert out.stdout.split() == list(expand_grid(demo_params()))  # the demo's four runs
