"""params.yaml is kept in the form DVC writes back, so `dvc exp run -S` changes one line.

The shipped file is checked against DVC's own reader and writer (fails naming the first line DVC
would rewrite); a real DVC project then runs `dvc exp run -S` on one key and the diff is that
line; a `-S` value that fails validation stops the `check` stage and changes nothing but
params.yaml itself (the value DVC was asked to write).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from actionbench import dvc_params
from actionbench.errors import ConfigError
from test_dvc import GIT_IDENTITY

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_the_shipped_params_yaml_is_in_the_form_dvc_writes_back():
    # on failure the message names the line and says to run `actionbench dvc-params --write`
    dvc_params.check(REPO / "params.yaml")


def test_check_names_the_first_line_dvc_would_rewrite_and_write_keeps_comments(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(
        "# the protocol\n"
        "train:\n"
        "  epochs: 3   # per stage\n"
        "  weights: null\n"
        "  stages: {f16: {init: previous, epochs: 35, schedule: multistep, milestones: [10, 20]}}\n"
    )
    with pytest.raises(ConfigError) as err:
        dvc_params.check(path)
    message = str(err.value)
    assert f"{path}:4 is not in the form DVC writes back" in message
    assert "'  weights: null'" in message and "'  weights:'" in message
    assert dvc_params.FIX in message
    before = yaml.safe_load(path.read_text())
    assert dvc_params.write(path) is True
    text = path.read_text()
    assert yaml.safe_load(text) == before  # the same data
    assert "# the protocol" in text and "# per stage" in text  # comments kept
    dvc_params.check(path)  # now in DVC's form: a second write changes nothing
    assert dvc_params.write(path) is False


def _git(args: list[str], cwd: Path, env: dict) -> str:
    out = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"{' '.join(args)}:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    return out.stdout


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the project but git's and DVC's own, and params.yaml."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file()
        and p.relative_to(root).parts[0] not in (".git", ".dvc")
        and p.name != "params.yaml"
    }


@pytest.mark.integration
def test_dvc_exp_run_set_param_changes_one_line_and_a_bad_value_touches_nothing(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(REPO / "params.yaml", proj / "params.yaml")
    # the repository's `check` stage as shipped (the other stages run Snakemake: not needed here)
    pipeline = yaml.safe_load((REPO / "dvc.yaml").read_text())
    (proj / "dvc.yaml").write_text(
        yaml.safe_dump({"stages": {"check": pipeline["stages"]["check"]}})
    )
    (proj / "reports").mkdir()
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **GIT_IDENTITY}
    _git(["git", "init", "-q"], proj, env)
    _git(["dvc", "init", "-q"], proj, env)
    _git(["dvc", "config", "core.analytics", "false"], proj, env)
    _git(["dvc", "repro"], proj, env)
    _git(["git", "add", "-A"], proj, env)
    _git(["git", "commit", "-qm", "baseline"], proj, env)
    grid = (proj / "reports" / "grid.txt").read_text()
    assert "mini-synthetic/tam-resnet18/f16" in grid

    # the shipped file itself (its comments, anchors and flow mappings survive DVC's write-back);
    # the value is whatever it holds, not an assumption about the user's demo
    key = "experiments.demo.train.stages.f16.epochs"
    old = yaml.safe_load((proj / "params.yaml").read_text())["experiments"]["demo"]["train"]
    old = old["stages"]["f16"]["epochs"]
    new = old + 2
    _git(["dvc", "exp", "run", "-S", f"{key}={new}"], proj, env)
    stat = _git(["git", "diff", "--numstat", "--", "params.yaml"], proj, env)
    assert stat.split() == ["1", "1", "params.yaml"], stat
    diff = _git(["git", "diff", "-U0", "--", "params.yaml"], proj, env)
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    removed, added = changed
    assert f"epochs: {old}" in removed and f"epochs: {new}" in added
    assert added.replace(f"epochs: {new}", f"epochs: {old}")[1:] == removed[1:]  # the value only

    # a value the schema refuses: the check stage stops, naming the key; no file but params.yaml
    # (the edit DVC was asked to make) differs, grid.txt included
    _git(["git", "checkout", "--", "params.yaml"], proj, env)
    before = _snapshot(proj)
    bad = subprocess.run(
        ["dvc", "exp", "run", "-S", f"{key}=0"],
        cwd=proj,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bad.returncode != 0
    assert key in bad.stdout + bad.stderr
    after = _snapshot(proj)
    assert after.keys() == before.keys(), sorted(after.keys() ^ before.keys())
    assert [k for k in after if after[k] != before[k]] == []
    assert (proj / "reports" / "grid.txt").read_text() == grid
