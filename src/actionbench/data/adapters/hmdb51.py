"""HMDB51: one split file per class and split, ``<class>_test_split<N>.txt``, with lines
``<video>.avi <mark>`` where 1 = train, 2 = test (used as val), 0 = not in this split.

Videos live at ``<videos_dir>/<class>/<video>.avi``. HMDB51 has no official class order, so labels
follow sorted class names. Video names contain characters such as ``#`` and ``&``; ids are made
filesystem-safe (see :func:`safe_video_id`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from actionbench.data.adapters.base import AdapterInputs, IndexResult, read_words, safe_video_id
from actionbench.errors import ConfigError

log = logging.getLogger(__name__)

FORMAT = "hmdb51"
DEFAULTS: dict[str, Any] = {
    "splits_dir": "testTrainMulti_7030_splits",
    "videos_dir": "hmdb51_org",
    "split": 1,
}
MARKS = {"1": "train", "2": "val"}


def build(inputs: AdapterInputs) -> IndexResult:
    """Index split ``split`` (1-3) from every class's split file."""
    split_no = inputs.integer("split", range(1, 4))
    splits_dir = inputs.path("splits_dir")
    videos_dir = inputs.path("videos_dir")
    suffix = f"_test_split{split_no}.txt"
    split_files = sorted(splits_dir.glob(f"*{suffix}"))
    if not split_files:
        raise ConfigError(
            f"{FORMAT}: no '*{suffix}' files in {splits_dir} (annotations key 'splits_dir')"
        )
    builder = inputs.builder()
    unused = 0
    for path in split_files:
        label = path.name[: -len(suffix)]
        for line, fields in read_words(path):
            if len(fields) != 2:
                builder.fail(
                    path, line, f"expected '<video> <0|1|2>', found {len(fields)} field(s)"
                )
                continue
            name, mark = fields
            video_id = safe_video_id(Path(name).stem)
            if mark == "0":
                unused += 1
                continue
            if mark not in MARKS:
                builder.fail(path, line, f"split mark {mark!r}; expected 0, 1 or 2", video_id)
                continue
            builder.add(path, line, video_id, videos_dir / label / name, MARKS[mark], label)
    log.info("%s: %d videos marked 0 (not in split %d) left out", FORMAT, unused, split_no)
    return builder.result()
