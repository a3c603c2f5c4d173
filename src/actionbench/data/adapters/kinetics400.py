"""Kinetics-400: the official CSVs (label, youtube_id, time_start, time_end, split[, is_cc]).

Videos are named ``<youtube_id>_<start:06d>_<end:06d>.<ext>`` (the name every public download
script writes) and live in one folder per split, either flat or in per-class sub-folders; both
layouts are found by one scan. Kinetics has no official class order, so labels follow the
sorted class names (as the paper's reference code does).
"""

from __future__ import annotations

from typing import Any

from actionbench.data.adapters.base import (
    AdapterInputs,
    IndexResult,
    VideoFinder,
    read_table,
    safe_video_id,
)

FORMAT = "kinetics400"
DEFAULTS: dict[str, Any] = {
    "train_csv": "kinetics400/train.csv",
    "val_csv": "kinetics400/validate.csv",
    "train_dir": "train",
    "val_dir": "val",
}
REQUIRED = ["label", "youtube_id", "time_start", "time_end"]


def _seconds(text: str) -> int | None:
    """Whole seconds from '10' or '10.0'; None for anything else (negative included)."""
    try:
        value = float(text)
    except ValueError:
        return None
    if value < 0 or value != int(value):
        return None
    return int(value)


def build(inputs: AdapterInputs) -> IndexResult:
    """Index the train and validation CSVs against the videos on disk."""
    builder = inputs.builder()
    for split, csv_key, dir_key in (
        ("train", "train_csv", "train_dir"),
        ("val", "val_csv", "val_dir"),
    ):
        csv_path = inputs.path(csv_key)
        finder = VideoFinder(inputs.path(dir_key))
        for line, row, problem in read_table(csv_path, REQUIRED):
            if row is None:
                builder.fail(csv_path, line, problem)
                continue
            label, youtube_id = row["label"], row["youtube_id"]
            start, end = _seconds(row["time_start"]), _seconds(row["time_end"])
            if not label or not youtube_id:
                builder.fail(csv_path, line, "empty label or youtube_id")
                continue
            if start is None or end is None or end <= start:
                builder.fail(
                    csv_path,
                    line,
                    f"bad times time_start={row['time_start']!r} time_end={row['time_end']!r} "
                    "(expected whole seconds, start < end)",
                )
                continue
            name = f"{youtube_id}_{start:06d}_{end:06d}"
            video_id = safe_video_id(name)
            found = finder.find(name)
            if found is None:
                builder.fail(
                    csv_path,
                    line,
                    f"video not found: {finder.root}/[<label>/]{name}.<ext>",
                    video_id,
                )
                continue
            builder.add(
                csv_path,
                line,
                video_id,
                found,
                split,
                label,
                youtube_id=youtube_id,
                time_start=start,
                time_end=end,
            )
    return builder.result()
