"""Per-dataset data-protocol defaults of the two layouts, ``reference`` and ``paper``.

Why one table: the run's ``layout`` selects the reference code's data protocol
(IBM/action-recognition-pytorch, which produced the paper's published numbers) or the paper's
text; three dataset settings have layout-dependent defaults, and an explicit value in
``params.yaml`` always wins over them:

* ``flip`` (training flip; also allows 10-crop test views): the reference flips every dataset;
  the paper protocol does not flip SSV2 and Jester, whose labels name a direction. A dataset
  whose classes are mirror pairs (the synthetic set's move left / move right) sets
  ``flip: false`` explicitly, and that holds in both layouts.
* ``min_frames`` (training videos shorter than this are dropped): the reference's
  ``filter_video``, 30 for Kinetics and 3 for SSV2; the paper protocol keeps every video.
* ``eval_min_frames`` (evaluation videos shorter than this are dropped, and counted): the
  reference's ``test.py -e`` builds its val set with the same ``filter_video`` as training, so
  its published numbers leave those videos out; by default it follows ``min_frames``. The paper
  protocol scores every video; ``eval_min_frames: 1`` does so under ``reference`` too.
* ``test_crop_size``: the reference's published evaluation crops the full ``scale_size``
  (``--input_size 256 --disable_scaleup``); the paper protocol crops ``input_size``.

Pure Python, no torch: the config module resolves a run's values with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LAYOUTS = ("reference", "paper")
# The reference's filter_video (utils/dataset_config.py there): by dataset format.
REFERENCE_MIN_FRAMES = {"kinetics400": 30, "ssv2": 3}
# Formats whose labels name a direction: the paper protocol never flips them.
DIRECTIONAL_FORMATS = ("ssv2", "jester")


def data_protocol(
    layout: str,
    dataset_format: str,
    settings: Mapping[str, Any],
    input_size: int,
    scale_size: int,
) -> dict[str, Any]:
    """``{"flip", "min_frames", "eval_min_frames", "test_crop_size"}`` of one run; explicit
    ``settings`` win (under ``reference`` an explicit ``min_frames`` also moves the
    ``eval_min_frames`` default: the reference applies one filter to both lists)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    reference = layout == "reference"
    defaults = {
        "flip": reference or dataset_format not in DIRECTIONAL_FORMATS,
        "min_frames": REFERENCE_MIN_FRAMES.get(dataset_format, 1) if reference else 1,
        "eval_min_frames": 1,
        "test_crop_size": scale_size if reference else input_size,
    }
    resolved = {
        key: settings[key] if settings.get(key) is not None else value
        for key, value in defaults.items()
    }
    if reference and settings.get("eval_min_frames") is None:
        resolved["eval_min_frames"] = resolved["min_frames"]
    return resolved
