"""The project's synthetic set (``actionbench synth``): ``annotations.csv`` (video_id, filename,
split, label_name, group, family; filename relative to the raw folder) and ``classes.csv``
(label_name, group, family; its row order is the class order).

``group`` (temporal/spatial) and ``family`` (a forward/reversed pair shares one) are kept as extra
columns: mini-datasets draw whole families and balance groups with them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actionbench.data.adapters.base import (
    CLASS_INDEX_COLUMN,
    AdapterInputs,
    IndexResult,
    is_safe_video_id,
    read_table,
)
from actionbench.errors import DataError

FORMAT = "synthetic"
DEFAULTS: dict[str, Any] = {"annotations": "annotations.csv", "classes": "classes.csv"}
CLASS_COLUMNS = ["label_name", "group", "family"]
SPLIT_NAMES = {"train": "train", "val": "val", "validation": "val"}


def load_classes(path: Path) -> dict[str, dict[str, Any]]:
    classes: dict[str, dict[str, Any]] = {}
    for line, row, problem in read_table(path, CLASS_COLUMNS):
        if row is None:
            raise DataError(f"{path}: line {line}: {problem}")
        classes[row["label_name"]] = {
            "group": row["group"],
            "family": row["family"],
            CLASS_INDEX_COLUMN: len(classes),
        }
    if not classes:
        raise DataError(f"{path}: no classes")
    return classes


def build(inputs: AdapterInputs) -> IndexResult:
    """Index annotations.csv, checking each row against classes.csv."""
    classes = load_classes(inputs.path("classes"))
    path = inputs.path("annotations")
    builder = inputs.builder()
    for line, row, problem in read_table(
        path, ["video_id", "filename", "split", "label_name", "group", "family"]
    ):
        if row is None:
            builder.fail(path, line, problem)
            continue
        video_id, label = row["video_id"], row["label_name"]
        if not is_safe_video_id(video_id):
            builder.fail(path, line, f"video_id {video_id!r} is not filesystem-safe", video_id)
            continue
        if row["split"] not in SPLIT_NAMES:
            builder.fail(path, line, f"split {row['split']!r}; expected train or val", video_id)
            continue
        if label not in classes:
            builder.fail(path, line, f"unknown label {label!r} (not in classes.csv)", video_id)
            continue
        expected = classes[label]
        if (row["group"], row["family"]) != (expected["group"], expected["family"]):
            builder.fail(
                path,
                line,
                f"group/family {row['group']}/{row['family']} disagree with classes.csv "
                f"({expected['group']}/{expected['family']})",
                video_id,
            )
            continue
        builder.add(
            path,
            line,
            video_id,
            inputs.raw_dir / row["filename"],
            SPLIT_NAMES[row["split"]],
            label,
            **expected,
        )
    return builder.result()
