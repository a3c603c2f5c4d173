"""storage: video through the pipeline: params.yaml key, run config, `actionbench reencode`,
lists from re-encoded videos, and the Snakemake DAG choosing re-encode over extraction."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from actionbench.cli import main
from actionbench.config import load_params, run_protocol
from actionbench.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def video_params(base: dict) -> dict:
    params = copy.deepcopy(base)
    params["datasets"]["synthetic"]["storage"] = "video"
    return params


def test_storage_defaults_to_frames_and_leaves_run_configs_unchanged(params_file, base_params):
    params = load_params(params_file(base_params))
    data = run_protocol(params, "mini-synthetic/tam-resnet18/f8")["data"]
    assert "storage" not in data and "decoder" not in data


def test_video_storage_reaches_the_run_config(params_file, base_params):
    params = video_params(base_params)
    params["datasets"]["synthetic"]["decoder"] = "pyav"
    data = run_protocol(load_params(params_file(params)), "mini-synthetic/tam-resnet18/f8")["data"]
    assert (data["storage"], data["decoder"]) == ("video", "pyav")
    assert data["short_side"] == base_params["datasets"]["synthetic"]["extract"]["short_side"]


@pytest.mark.parametrize(
    "key, value, message",
    [("storage", "tape", "datasets.synthetic.storage"),
     ("decoder", "decord", "datasets.synthetic.decoder"),
     ("reencode", {"gop": 0}, "datasets.synthetic.reencode.gop"),
     ("reencode", {"keyint": 8}, "datasets.synthetic.reencode")],
)  # fmt: skip
def test_bad_storage_keys_name_the_key(params_file, base_params, key, value, message):
    params = copy.deepcopy(base_params)
    params["datasets"]["synthetic"][key] = value
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_params(params_file(params))


@pytest.mark.integration
def test_reencode_cli_then_lists(tmp_path, video_maker, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = []
    for i in range(3):
        video = video_maker(tmp_path / "raw" / f"v{i}.mp4", frames=10 + i, size="64x48")
        rows.append([f"v{i}", str(video), "train" if i else "val", f"c{i % 2}"])
    rows.append(["bad", str(tmp_path / "raw" / "absent.mp4"), "train", "c0"])
    pd.DataFrame(rows, columns=["video_id", "video_path", "split", "label_name"]).to_csv(
        "index.csv", index=False
    )
    assert main(["reencode", "--index", "index.csv", "--videos-root", "data/videos/x",
                 "--short-side", "32", "--gop", "4", "--workers", "1", "--no-progress",
                 "--out", "re/shard0.csv", "--failures", "re/shard0_failures.csv"]) == 0  # fmt: skip
    table = pd.read_csv("re/shard0.csv")
    assert table["num_frames"].tolist() == [10, 11, 12]
    assert table["frames_dir"].tolist() == [f"data/videos/x/v{i}.mp4" for i in range(3)]
    assert pd.read_csv("re/shard0_failures.csv")["video_id"].tolist() == ["bad"]
    assert main(["lists", "--index", "index.csv", "--extracted", "re/shard0.csv",
                 "--failures", "re/shard0_failures.csv", "--out-dir", "lists"]) == 0  # fmt: skip
    train = pd.read_csv("lists/train.csv")
    assert train["frames_dir"].tolist() == ["data/videos/x/v1.mp4", "data/videos/x/v2.mp4"]
    assert pd.read_csv("lists/excluded.csv")["video_id"].tolist() == ["bad"]


def _project(tmp_path: Path, params: dict) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(REPO / "Snakefile", proj)
    shutil.copytree(REPO / "workflow", proj / "workflow")
    os.symlink("workflow/profiles/local", proj / "local")
    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    return proj


@pytest.mark.integration
def test_snakemake_plans_reencode_instead_of_extraction(tmp_path, base_params):
    proj = _project(tmp_path, video_params(base_params))
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "local", "--cores", "1", "all",
         "--dry-run", "--quiet", "rules"],
        cwd=proj, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    planned = out.stdout + out.stderr
    assert "reencode" in planned
    assert "extract " not in planned and "\nextract" not in planned
