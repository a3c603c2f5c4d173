"""The data stage under the real Snakemake (issue 12, items 1 and 2; issue 20): every excluded
video keeps its real reason in excluded.csv (a video never downloaded, skipped by the index, and an
audio-only file included), the console shows the dataset's one-line summary, and a changed
``extract.short_side`` re-extracts the frames instead of reusing the old size."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from PIL import Image

from study_params import demo_params

REPO = Path(__file__).resolve().parents[2]
LISTS = "data/lists/synthetic/train.csv"


def project(tmp_path: Path, short_side: int) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir(exist_ok=True)
    shutil.copy(REPO / "Snakefile", proj)
    if not (proj / "workflow").exists():
        shutil.copytree(REPO / "workflow", proj / "workflow")
        os.symlink("workflow/profiles/local", proj / "local")
    params = demo_params()  # never the user's params.yaml: what it enables is theirs
    synthetic = params["datasets"]["synthetic"]
    synthetic["synth"].update(
        size=32, num_frames=12, train_per_class=2, val_per_class=2, temporal_pairs=2,
        spatial_classes=0,
    )  # fmt: skip
    synthetic["extract"].update(short_side=short_side, workers=2)
    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    return proj


def snakemake(proj: Path, *targets: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "local", "--cores", "2", *targets],
        cwd=proj, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.mark.integration
def test_snakemake_data_stage_reports_reasons_and_re_extracts_on_new_settings(
    tmp_path, audio_maker
):
    proj = project(tmp_path, short_side=48)
    synth = snakemake(proj, "data/raw/synthetic/annotations.csv")
    assert synth.returncode == 0, synth.stderr[-3000:]
    annotations = pd.read_csv(proj / "data/raw/synthetic/annotations.csv")
    raw = proj / "data/raw/synthetic"
    train_row = annotations[annotations["split"] == "train"].iloc[0]
    val_rows = annotations[annotations["split"] == "val"]
    val_row, gone_row, audio_row = (val_rows.iloc[i] for i in range(3))
    (raw / train_row["filename"]).write_text("<html>404 Not Found</html>\n")  # a bad download
    (raw / val_row["filename"]).write_bytes(b"")
    (raw / gone_row["filename"]).unlink()  # never downloaded: the index skips its row
    audio_maker(tmp_path / "speech.mp4").replace(
        raw / audio_row["filename"]
    )  # the sound track only

    first = snakemake(proj, LISTS)
    assert first.returncode == 0, first.stderr[-3000:]
    console = first.stdout + first.stderr
    assert (
        "synthetic: 16 annotation rows, 15 indexed, 12 extracted, 4 excluded "
        "(1 video not found; 1 not a video; 1 empty file; 1 no video stream); "
        "7 train / 5 val videos, 4 classes"
    ) in console
    excluded = pd.read_csv(proj / "data/lists/synthetic/excluded.csv").set_index("video_id")
    assert excluded.loc[train_row["video_id"], "reason"] == (
        "not a video: a text file (starts with '<html>404 Not Found</html>')"
    )
    assert excluded.loc[val_row["video_id"], "reason"] == "empty file (0 bytes)"
    assert excluded.loc[audio_row["video_id"], "reason"] == "no video stream (audio only)"
    gone = excluded.loc[gone_row["video_id"]]
    assert (gone["stage"], gone["reason"].split(": ")[0]) == ("index", "video not found")
    summary = json.loads((proj / "data/lists/synthetic/summary.json").read_text())
    assert summary["excluded_by_reason"] == {
        "video not found": 1, "not a video": 1, "empty file": 1, "no video stream": 1
    }  # fmt: skip
    frame = proj / "data/frames/synthetic" / annotations["video_id"].iloc[-1] / "img_00001.jpg"
    with Image.open(frame) as image:
        assert min(image.size) == 48

    recorded = json.loads((proj / "data/lists/synthetic/settings.json").read_text())
    assert recorded["settings"]["frames"]["short_side"] == 48  # what status compares later

    project(tmp_path, short_side=32)  # the user edits params.yaml
    second = snakemake(proj, LISTS)
    assert second.returncode == 0, second.stderr[-3000:]
    with Image.open(frame) as image:
        assert min(image.size) == 32
    log = (proj / "logs/extract/synthetic/shard0.log").read_text()
    assert "12 extracted (12 of them re-extracted), 0 already done, 3 failed" in log
    assert "settings changed: short_side 48 -> 32" in log
    recorded = json.loads((proj / "data/lists/synthetic/settings.json").read_text())
    assert recorded["settings"]["frames"]["short_side"] == 32
