"""UCF101: ``classInd.txt`` (``<1-based index> <class>``) and the official split files
``trainlist0N.txt`` (``Class/v_..avi <index>``) / ``testlist0N.txt`` (``Class/v_..avi``), N = 1..3.

The test split is used as ``val``. classInd's order is the official class order. Test lines carry
no index, so their class comes from the folder name, matched case-insensitively because the
published lists and files spell some names differently (``HandStandPushups`` vs
``HandstandPushups``); the video is looked up in the folder named as in classInd.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from actionbench.data.adapters.base import (
    CLASS_INDEX_COLUMN,
    AdapterInputs,
    IndexResult,
    read_words,
    relative_path_problem,
    safe_video_id,
)
from actionbench.errors import ConfigError, DataError

FORMAT = "ucf101"
DEFAULTS: dict[str, Any] = {
    "splits_dir": "ucfTrainTestlist",
    "videos_dir": "UCF-101",
    "split": 1,
}


def load_class_index(path: Path) -> list[str]:
    """Class names in official order (classInd numbers them from 1)."""
    by_number: dict[int, str] = {}
    for line, fields in read_words(path):
        if len(fields) != 2 or not fields[0].isdigit():
            raise DataError(f"{path}: line {line}: expected '<index> <class>', found {fields}")
        by_number[int(fields[0])] = fields[1]
    if sorted(by_number) != list(range(1, len(by_number) + 1)):
        raise DataError(f"{path}: class numbers are not 1..{len(by_number)}")
    return [by_number[n] for n in sorted(by_number)]


def build(inputs: AdapterInputs) -> IndexResult:
    """Index split ``split`` (1-3): trainlist as train, testlist as val."""
    split_no = inputs.integer("split", range(1, 4))
    splits_dir = inputs.path("splits_dir")
    videos_dir = inputs.path("videos_dir")
    classes = load_class_index(splits_dir / "classInd.txt")
    by_lower = {name.lower(): i for i, name in enumerate(classes)}
    builder = inputs.builder()
    for split, name, fields_expected in (
        ("train", f"trainlist{split_no:02d}.txt", 2),
        ("val", f"testlist{split_no:02d}.txt", 1),
    ):
        path = splits_dir / name
        if not path.is_file():
            raise ConfigError(
                f"{FORMAT}: split file {path} not found (annotations keys 'splits_dir', 'split'={split_no})"
            )
        for line, fields in read_words(path):
            if len(fields) != fields_expected:
                builder.fail(
                    path, line, f"expected {fields_expected} field(s), found {len(fields)}"
                )
                continue
            relative = PurePosixPath(fields[0])
            video_id = safe_video_id(relative.stem)
            unusable = relative_path_problem(relative)
            if unusable:
                builder.fail(path, line, unusable, video_id)
                continue
            folder = relative.parts[0] if len(relative.parts) > 1 else ""
            class_idx = by_lower.get(folder.lower())
            if len(fields) == 2:
                number = int(fields[1]) if fields[1].isdigit() else 0
                if not 1 <= number <= len(classes):
                    builder.fail(
                        path, line, f"class number {fields[1]!r} not in classInd", video_id
                    )
                    continue
                if class_idx is not None and class_idx != number - 1:
                    builder.fail(
                        path,
                        line,
                        f"class number {number} ({classes[number - 1]}) disagrees with folder {folder!r}",
                        video_id,
                    )
                    continue
                class_idx = number - 1
            if class_idx is None:
                builder.fail(
                    path, line, f"unknown class folder {folder!r} (not in classInd)", video_id
                )
                continue
            builder.add(
                path,
                line,
                video_id,
                videos_dir / classes[class_idx] / relative.name,
                split,
                classes[class_idx],
                **{CLASS_INDEX_COLUMN: class_idx},
            )
    return builder.result()
