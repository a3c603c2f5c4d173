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

from actionbench.data.adapters.base import AdapterInputs, IndexResult, safe_video_id
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


def build(inputs: AdapterInputs) -> IndexResult:
    """Index the train and validation JSON lists against ``<videos_dir>/<id>.<video_ext>``."""
    labels = load_labels(inputs.path("labels_json"))
    videos_dir = inputs.path("videos_dir")
    ext = str(inputs.options["video_ext"]).lstrip(".")
    builder = inputs.builder()
    for split, key in (("train", "train_json"), ("val", "val_json")):
        path = inputs.path(key)
        entries = _load_json(path)
        if not isinstance(entries, list):
            raise DataError(
                f"{path}: expected a JSON list of {{id, label, template, placeholders}}"
            )
        for number, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict) or "id" not in entry or "template" not in entry:
                builder.fail(path, number, "entry lacks 'id' or 'template'")
                continue
            builder.add(
                path,
                number,
                safe_video_id(str(entry["id"])),
                videos_dir / f"{entry['id']}.{ext}",
                split,
                normalise_template(str(entry["template"])),
                classes=labels,
                classes_source="labels file",
                instance_label=str(entry.get("label", "")),
                placeholders=json.dumps(entry.get("placeholders", []), ensure_ascii=False),
            )
    return builder.result()
