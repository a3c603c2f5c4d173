"""The params schema ships inside the package and is found from an installed wheel (issue 15.4)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from study_params import demo_params

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "params.schema.yaml"


@pytest.mark.slow
def test_wheel_ships_the_schema_and_validates_params_with_it(tmp_path):
    src = tmp_path / "src_tree"  # build from a copy: setuptools writes build/ into the tree
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(
        REPO / "src",
        src / "src",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    (src / "workflow" / "schemas").mkdir(parents=True)
    shutil.copy2(SCHEMA, src / "workflow" / "schemas" / SCHEMA.name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = wheels.glob("actionbench-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        shipped = zf.read("actionbench/resources/params.schema.yaml")
        zf.extractall(tmp_path / "site")
    assert shipped == SCHEMA.read_bytes()  # the file itself, not a dangling link

    # a params.yaml with no workflow/ beside it, read by the installed package
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "params.yaml").write_text(yaml.safe_dump(demo_params()))
    env = {k: v for k, v in os.environ.items() if k != "ACTIONBENCH_SCHEMA"}
    env["PYTHONPATH"] = str(tmp_path / "site")
    probe = (
        "import actionbench.config as c, pathlib;"
        "print(c.find_schema(pathlib.Path('params.yaml')));"
        "print(sorted(c.load_params('params.yaml')['experiments'])[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found, _group = done.stdout.split()
    assert Path(found).is_relative_to(tmp_path / "site" / "actionbench" / "resources")
