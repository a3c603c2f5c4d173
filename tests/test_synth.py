"""The synthetic dataset: real mp4s, deterministic, temporal pairs are reversals of each other."""

from __future__ import annotations

import csv
import hashlib
import subprocess

import numpy as np
import pytest

from actionbench.data.ffmpeg_bin import ffmpeg_exe
from actionbench.data.synth import SynthConfig, class_specs, generate

TINY = SynthConfig(
    seed=3,
    size=32,
    fps=8,
    num_frames=10,
    train_per_class=2,
    val_per_class=1,
    temporal_pairs=2,
    spatial_classes=2,
)


def _digest(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.mp4"))
    }


def _decode(path, size):
    raw = subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, size, size, 3)


@pytest.mark.integration
def test_generation_is_deterministic_and_complete(tmp_path):
    generate(tmp_path / "a", TINY, workers=2)
    generate(tmp_path / "b", TINY, workers=1)
    a, b = _digest(tmp_path / "a" / "videos"), _digest(tmp_path / "b" / "videos")
    assert a == b and len(a) == 6 * 3  # 6 classes x (2 train + 1 val)
    rows = list(csv.DictReader((tmp_path / "a" / "annotations.csv").open()))
    assert len(rows) == 18
    assert {r["group"] for r in rows} == {"temporal", "spatial"}
    assert {r["split"] for r in rows} == {"train", "val"}
    classes = list(csv.DictReader((tmp_path / "a" / "classes.csv").open()))
    assert [c["label_name"] for c in classes] == [
        "move_right",
        "move_left",
        "grow",
        "shrink",
        "red_disk",
        "green_triangle",
    ]
    frames = _decode(tmp_path / "a" / "videos" / "grow_train_000.mp4", 32)
    assert frames.shape == (10, 32, 32, 3)


@pytest.mark.integration
def test_other_seed_gives_other_videos(tmp_path):
    generate(tmp_path / "a", TINY)
    other = SynthConfig(**{**TINY.__dict__, "seed": 4})
    generate(tmp_path / "b", other)
    assert _digest(tmp_path / "a" / "videos") != _digest(tmp_path / "b" / "videos")


def test_temporal_pairs_are_reversals_of_the_same_sequence():
    specs = {s.label_name: s for s in class_specs(TINY)}
    fwd = specs["move_right"].render(np.random.default_rng([1, 2]), TINY)
    rev = specs["move_left"].render(np.random.default_rng([1, 2]), TINY)
    np.testing.assert_array_equal(fwd[::-1], rev)
    # the object really moves: its brightest column drifts right in the forward class
    cols = [np.argmax(f.mean(axis=(0, 2))) for f in fwd]
    assert cols[-1] > cols[0] + 8


def test_spatial_classes_differ_in_appearance_not_in_motion():
    specs = [s for s in class_specs(TINY) if s.group == "spatial"]
    a = specs[0].render(np.random.default_rng(0), TINY)
    b = specs[1].render(np.random.default_rng(0), TINY)
    # same random walk, different shape/colour: per-frame colour statistics differ
    assert not np.allclose(a.mean(axis=(0, 1, 2)), b.mean(axis=(0, 1, 2)))
