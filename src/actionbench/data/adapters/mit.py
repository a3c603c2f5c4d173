"""Moments in Time: ``trainingSet.csv`` / ``validationSet.csv`` rows ``class/file.mp4,label,...``
plus ``moments_categories.txt`` (``name,index`` per line, the official class order).

Videos live at ``<train_dir>/<class>/<file>`` and ``<val_dir>/<class>/<file>``. The same file
name can occur under two classes, so the video id is ``<class>__<stem>``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from actionbench.data.adapters.base import AdapterInputs, IndexResult, read_rows, safe_video_id
from actionbench.errors import DataError

FORMAT = "mit"
DEFAULTS: dict[str, Any] = {
    "train_csv": "trainingSet.csv",
    "val_csv": "validationSet.csv",
    "categories": "moments_categories.txt",
    "train_dir": "training",
    "val_dir": "validation",
}


def load_categories(path: Path) -> dict[str, int]:
    """{class name: official index}; lines are ``name,index`` or just ``name`` (index = order)."""
    categories: dict[str, int] = {}
    for order, (line, fields) in enumerate(read_rows(path)):
        name = fields[0]
        try:
            index = int(fields[1]) if len(fields) > 1 and fields[1] else order
        except ValueError:
            raise DataError(f"{path}: line {line}: index {fields[1]!r} is not an integer") from None
        categories[name] = index
    if not categories:
        raise DataError(f"{path}: no categories")
    return categories


def build(inputs: AdapterInputs) -> IndexResult:
    """Index both split CSVs against the class folders on disk."""
    categories = load_categories(inputs.path("categories"))
    builder = inputs.builder()
    for split, csv_key, dir_key in (
        ("train", "train_csv", "train_dir"),
        ("val", "val_csv", "val_dir"),
    ):
        csv_path = inputs.path(csv_key)
        video_root = inputs.path(dir_key)
        for line, fields in read_rows(csv_path):
            if len(fields) < 2 or not fields[0] or not fields[1]:
                builder.fail(
                    csv_path, line, f"expected 'class/file,label,...', found {len(fields)} field(s)"
                )
                continue
            relative, label = PurePosixPath(fields[0]), fields[1]
            builder.add(
                csv_path,
                line,
                safe_video_id("__".join(relative.with_suffix("").parts)),
                video_root.joinpath(*relative.parts),
                split,
                label,
                classes=categories,
                classes_source="categories",
            )
    return builder.result()
