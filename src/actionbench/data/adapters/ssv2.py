"""Something-Something-v2: train/validation JSON lists plus the labels JSON (name -> index).

An entry's class is its ``template`` with the brackets removed ("Putting [something] onto
[something]" -> "Putting something onto something"), which is exactly how the labels file
spells class names; the labels file's indices are the official class order. Videos are
``<videos_dir>/<id>.webm``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from actionbench.data.adapters.base import (
    CLASS_INDEX_COLUMN,
    IndexBuilder,
    IndexResult,
    annotation_path,
    check_raw_dir,
    resolve_options,
    safe_video_id,
)
from actionbench.errors import DataError

FORMAT = "ssv2"
DEFAULTS: dict[str, Any] = {
    "train_json": "something-something-v2-train.json",
    "val_json": "something-something-v2-validation.json",
    "labels_json": "something-something-v2-labels.json",
    "videos_dir": "20bn-something-something-v2",
    "video_ext": "webm",
}


def normalise_template(template: str) -> str:
    """SSV2 class name of a template: the placeholders' brackets removed."""
    return template.replace("[", "").replace("]", "")


def _load_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: invalid JSON ({err})") from err


def load_labels(path: Path) -> dict[str, int]:
    """The labels file as {class name: official index}."""
    raw = _load_json(path)
    if not isinstance(raw, dict):
        raise DataError(f"{path}: expected a JSON object mapping class name -> index")
    labels: dict[str, int] = {}
    for name, value in raw.items():
        try:
            labels[name] = int(value)
        except (TypeError, ValueError):
            raise DataError(
                f"{path}: class {name!r} has index {value!r}; expected an integer"
            ) from None
    return labels


def build(raw_dir: Path, annotations: dict[str, Any] | None = None) -> IndexResult:
    """Index the train and validation JSON lists against ``<videos_dir>/<id>.<video_ext>``."""
    raw_dir = check_raw_dir(FORMAT, raw_dir)
    options = resolve_options(FORMAT, annotations, DEFAULTS)
    labels = load_labels(annotation_path(FORMAT, raw_dir, options, "labels_json"))
    videos_dir = annotation_path(FORMAT, raw_dir, options, "videos_dir")
    ext = str(options["video_ext"]).lstrip(".")
    builder = IndexBuilder(FORMAT, raw_dir)
    for split, key in (("train", "train_json"), ("val", "val_json")):
        path = annotation_path(FORMAT, raw_dir, options, key)
        entries = _load_json(path)
        if not isinstance(entries, list):
            raise DataError(
                f"{path}: expected a JSON list of {{id, label, template, placeholders}}"
            )
        for number, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict) or "id" not in entry or "template" not in entry:
                builder.fail(path, number, "entry lacks 'id' or 'template'")
                continue
            video_id = safe_video_id(str(entry["id"]))
            label_name = normalise_template(str(entry["template"]))
            if label_name not in labels:
                builder.fail(
                    path, number, f"unknown label {label_name!r} (not in labels file)", video_id
                )
                continue
            builder.add(
                path,
                number,
                video_id,
                videos_dir / f"{entry['id']}.{ext}",
                split,
                label_name,
                **{
                    CLASS_INDEX_COLUMN: labels[label_name],
                    "instance_label": str(entry.get("label", "")),
                    "placeholders": json.dumps(entry.get("placeholders", []), ensure_ascii=False),
                },
            )
    return builder.result()
