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


@pytest.mark.integration
def test_benchmark_data_reports_every_storage_mode(tmp_path, video_maker):
    import json

    rows = [[f"v{i}", str(video_maker(tmp_path / f"v{i}.mp4", frames=12, size="64x48"))]
            for i in range(2)]  # fmt: skip
    pd.DataFrame(rows, columns=["video_id", "video_path"]).to_csv(tmp_path / "i.csv", index=False)
    assert main(["benchmark-data", "--videos", str(tmp_path / "i.csv"), "--work-dir",
                 str(tmp_path / "w"), "--short-side", "32", "--gop", "1", "4", "--frames", "4",
                 "--input-size", "32", "--items", "2", "--workers", "1",
                 "--time-modes", "video_reencoded_g4", "frames",
                 "--json", str(tmp_path / "r.json")]) == 0  # fmt: skip
    result = json.loads((tmp_path / "r.json").read_text())
    storage = {row["mode"]: row for row in result["storage"]}
    assert list(storage) == ["video_as_is", "video_reencoded_g1", "video_reencoded_g4", "frames"]
    assert storage["frames"]["files_per_1000_videos"] == 13_000  # a JPEG per frame + frames.json
    # a re-encoded file and its record (<id>.mp4.json: settings, source, frames)
    assert storage["video_reencoded_g4"]["files_per_1000_videos"] == 2_000
    assert storage["video_as_is"]["prepare_s"] == 0
    assert storage["video_reencoded_g1"]["bytes"] > storage["video_reencoded_g4"]["bytes"] > 0
    modes = {(row["mode"], row["decoder"]) for row in result["throughput"]}
    assert ("frames", "decode_jpeg") in modes
    assert {mode for mode, _ in modes} == {"video_reencoded_g4", "frames"}
    assert all(row["loader_fps_per_worker"] > 0 for row in result["throughput"])
    assert not (tmp_path / "w").exists()  # scratch copies removed unless --keep


def test_benchmark_data_needs_a_list_or_videos(caplog):
    assert main(["benchmark-data"]) == 2
    assert "--list" in caplog.text and "--videos" in caplog.text


@pytest.mark.slow
@pytest.mark.integration
def test_tiny_demo_trains_and_evaluates_from_videos(tmp_path, base_params):
    """The real DAG on a tiny synthetic set with storage: video: re-encode, lists from videos,
    train f8 -> f16, multi-clip evaluation, report; no frame folder is ever written."""
    import json

    params = video_params(base_params)
    synthetic = params["datasets"]["synthetic"]
    synthetic["synth"].update(size=32, num_frames=12, train_per_class=2, val_per_class=2,
                              temporal_pairs=2, spatial_classes=0)  # fmt: skip
    synthetic["extract"].update(short_side=36, workers=2)
    demo = params["experiments"]["demo"]
    demo["train"]["optim"].update(batch_size=2)
    demo["train"]["stages"] = {
        "f8": {"init": "scratch", "epochs": 1, "schedule": "cosine"},
        "f16": {"init": "previous", "epochs": 1, "schedule": "cosine"},
    }
    demo["evaluate"] = {"num_clips": 2, "batch_size": 4}
    proj = _project(tmp_path, params)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "local", "--cores", "2", "all"],
        cwd=proj, env=env, capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-4000:]
    assert not (proj / "data" / "frames").exists()
    assert len(list((proj / "data" / "videos" / "synthetic").glob("*.mp4"))) == 16
    train = pd.read_csv(proj / "data" / "lists" / "mini-synthetic" / "train.csv")
    assert train["frames_dir"].str.endswith(".mp4").all()
    metrics = list((proj / "runs" / "mini-synthetic").rglob("eval/metrics.json"))
    assert len(metrics) == 4, metrics
    for path in metrics:
        assert json.loads(path.read_text())
        config = json.loads((path.parent.parent / "config.json").read_text())
        assert config["data"]["storage"] == "video"
    assert (proj / "reports" / "report.md").is_file()
