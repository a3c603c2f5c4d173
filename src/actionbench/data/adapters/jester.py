"""20BN-Jester: ``jester-v1-train.csv`` / ``jester-v1-validation.csv`` (``id;label``) and
``jester-v1-labels.csv`` (one class per line, the official order).

Jester ships JPEG frame folders (``<frames_dir>/<id>/00001.jpg``), not videos, so ``video_path``
points at the folder; extraction recognises a folder and only renumbers/resizes its frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actionbench.data.adapters.base import AdapterInputs, IndexResult, read_rows, safe_video_id
from actionbench.errors import DataError

FORMAT = "jester"
DEFAULTS: dict[str, Any] = {
    "train_csv": "jester-v1-train.csv",
    "val_csv": "jester-v1-validation.csv",
    "labels_csv": "jester-v1-labels.csv",
    "frames_dir": "20bn-jester-v1",
}


def load_labels(path: Path) -> dict[str, int]:
    labels = {fields[0]: i for i, (_, fields) in enumerate(read_rows(path, delimiter=";"))}
    if not labels:
        raise DataError(f"{path}: no class names")
    return labels


def build(inputs: AdapterInputs) -> IndexResult:
    """Index both split CSVs against the frame folders on disk."""
    labels = load_labels(inputs.path("labels_csv"))
    frames_dir = inputs.path("frames_dir")
    builder = inputs.builder()
    for split, key in (("train", "train_csv"), ("val", "val_csv")):
        path = inputs.path(key)
        for line, fields in read_rows(path, delimiter=";"):
            if len(fields) != 2 or not fields[0]:
                builder.fail(path, line, f"expected 'id;label', found {len(fields)} field(s)")
                continue
            raw_id, label = fields
            builder.add(
                path,
                line,
                safe_video_id(raw_id),
                frames_dir / raw_id,
                split,
                label,
                classes=labels,
                classes_source="labels file",
                require_dir=True,
            )
    return builder.result()
