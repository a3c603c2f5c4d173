"""Progress in batch logs: no tqdm redraws (carriage returns) when stderr is not a terminal,
but plain periodic lines with the rate and the ETA — for `synth` and `extract` as Snakemake
runs them (stderr redirected to a log file)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from study_params import demo_params

CLI = "import sys; from actionbench.cli import main; sys.exit(main())"


def _run(log, *args: str) -> str:
    with open(log, "w") as fh:
        res = subprocess.run(
            [sys.executable, "-c", CLI, *args], stdout=fh, stderr=subprocess.STDOUT
        )
    text = log.read_text()
    assert res.returncode == 0, text
    return text


@pytest.mark.integration
def test_synth_and_extract_write_plain_progress_lines_to_a_log(tmp_path):
    raw = tmp_path / "raw"
    synth = {
        "seed": 3, "size": 32, "fps": 8, "num_frames": 10, "train_per_class": 2,
        "val_per_class": 1, "temporal_pairs": 2, "spatial_classes": 2,
    }  # fmt: skip
    from actionbench.config import load_params

    base = demo_params()
    base["datasets"]["synthetic"]["raw_dir"] = str(raw)
    base["datasets"]["synthetic"]["synth"].update(synth)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(base))
    load_params(params)  # still valid

    text = _run(tmp_path / "synth.log", "synth", "--params", str(params), "--workers", "1")
    assert "\r" not in text, "a progress bar was drawn into a log file"
    line = re.search(r"synth (\d+)/\1 elapsed \d+:\d\d:\d\d eta 0:00:00 [\d.e+]+ video/s", text)
    assert line, text

    index = tmp_path / "index.csv"
    _run(
        tmp_path / "index.log", "index", "--format", "synthetic", "--raw-dir", str(raw),
        "--out", str(index), "--failures", str(tmp_path / "index_failures.csv"),
    )  # fmt: skip
    text = _run(
        tmp_path / "extract.log", "extract", "--index", str(index),
        "--frames-root", str(tmp_path / "frames"), "--short-side", "32", "--workers", "1",
        "--out", str(tmp_path / "extracted.csv"), "--failures", str(tmp_path / "failed.csv"),
    )  # fmt: skip
    assert "\r" not in text
    assert re.search(r"extract shard 0/1 (\d+)/\1 elapsed .* eta 0:00:00 [\d.e+]+ video/s", text)
