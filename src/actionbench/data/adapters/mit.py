"""Moments in Time: ``trainingSet.csv`` / ``validationSet.csv`` rows ``class/file.mp4,label,...``
plus ``moments_categories.txt`` (``name,index`` per line, the official class order).

Videos live at ``<train_dir>/<class>/<file>`` and ``<val_dir>/<class>/<file>``. The same file
name can occur under two classes, so the video id is ``<class>__<stem>``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from actionbench.data.adapters.base import (
    CLASS_INDEX_COLUMN,
    IndexBuilder,
    IndexResult,
    annotation_path,
    check_raw_dir,
    read_rows,
    resolve_options,
    safe_video_id,
)
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


def build(raw_dir: Path, annotations: dict[str, Any] | None = None) -> IndexResult:
    """Index both split CSVs against the class folders on disk."""
    raw_dir = check_raw_dir(FORMAT, raw_dir)
    options = resolve_options(FORMAT, annotations, DEFAULTS)
    categories = load_categories(annotation_path(FORMAT, raw_dir, options, "categories"))
    builder = IndexBuilder(FORMAT, raw_dir)
    for split, csv_key, dir_key in (
        ("train", "train_csv", "train_dir"),
        ("val", "val_csv", "val_dir"),
    ):
        csv_path = annotation_path(FORMAT, raw_dir, options, csv_key)
        video_root = annotation_path(FORMAT, raw_dir, options, dir_key)
        for line, fields in read_rows(csv_path):
            if len(fields) < 2 or not fields[0] or not fields[1]:
                builder.fail(
                    csv_path, line, f"expected 'class/file,label,...', found {len(fields)} field(s)"
                )
                continue
            relative, label = PurePosixPath(fields[0]), fields[1]
            video_id = safe_video_id("__".join(relative.with_suffix("").parts))
            if label not in categories:
                builder.fail(
                    csv_path, line, f"unknown label {label!r} (not in categories)", video_id
                )
                continue
            builder.add(
                csv_path,
                line,
                video_id,
                video_root.joinpath(*relative.parts),
                split,
                label,
                **{CLASS_INDEX_COLUMN: categories[label]},
            )
    return builder.result()
