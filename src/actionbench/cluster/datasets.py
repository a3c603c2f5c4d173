"""How many videos an epoch reads, and how much disk a dataset's frames take, before any data.

Sizing must give the same numbers when Snakemake plans the DAG (no lists built yet) and when a
job re-reads the Snakefile on its node (lists built since), so it never counts list files: the
real datasets' sizes are the published ones below, the synthetic set's follow from its
``synth:`` settings.

Published sizes (videos, train / val): the paper's Table 11 (SSV2, Kinetics, MiT and their mini
versions); UCF101 and HMDB51 split 1 (9,537 / 3,783 and 3,570 / 1,530); Jester v1 (118,562 /
14,787). Frames per video (extracted at the source frame rate) follow Table 11's durations:
SSV2 4 s x 12 fps, Kinetics 8 s x 30 fps, MiT 3 s x 30 fps, Jester 3 s x 12 fps; UCF101 about
7 s x 25 fps, HMDB51 about 3.5 s x 30 fps.

Bytes per frame: 56.8 kB per JPEG at short side 256 (quality 2) and 20.5 kB per frame of
re-encoded video (GOP 8), measured in reports/benchmarks/video_storage.md (17.04 and 6.14 GB per
300,000 frames); other short sides scale with the pixel count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from actionbench import defaults
from actionbench.config import dataset_refs
from actionbench.errors import ConfigError

# format -> (train videos, val videos, frames per video); mini versions under (format, "mini")
PUBLISHED: dict[Any, tuple[int, int, int]] = {
    "ssv2": (168_000, 24_000, 48),
    ("ssv2", "mini"): (81_000, 12_000, 48),
    "kinetics400": (240_000, 19_000, 240),
    ("kinetics400", "mini"): (121_000, 10_000, 240),
    "mit": (802_000, 34_000, 90),
    ("mit", "mini"): (100_000, 10_000, 90),
    "ucf101": (9_537, 3_783, 175),
    "hmdb51": (3_570, 1_530, 105),
    "jester": (118_562, 14_787, 36),
}
FRAME_BYTES_256 = {"frames": 56_800, "video": 20_500}


@dataclass(frozen=True)
class DatasetSize:
    train: int  # videos per training epoch
    val: int
    frames_per_video: int
    source: str


def dataset_size(params: Mapping[str, Any], name: str) -> DatasetSize:
    """Videos of a trainable dataset (a base dataset or its mini version)."""
    ref = dataset_refs(params).get(name)
    if ref is None:
        raise ConfigError(f"unknown dataset {name!r}")
    cfg = defaults.dataset(params["datasets"][ref.base])
    fmt = cfg["format"]
    if fmt == "synthetic":
        synth = cfg["synth"]
        classes = 2 * synth["temporal_pairs"] + synth["spatial_classes"]
        if ref.is_mini and cfg["mini"]["mode"] != "all":
            classes = max(1, classes // 2)
        return DatasetSize(
            classes * synth["train_per_class"],
            classes * synth["val_per_class"],
            synth["num_frames"],
            "synth settings",
        )
    key = (fmt, "mini") if ref.is_mini else fmt
    if key not in PUBLISHED:
        if ref.is_mini:  # a mini version the paper did not publish: half of the classes
            train, val, frames = PUBLISHED[fmt]
            return DatasetSize(train // 2, val // 2, frames, f"half of published {fmt}")
        raise ConfigError(f"dataset {name!r}: no published size for format {fmt!r}")
    train, val, frames = PUBLISHED[key]
    return DatasetSize(train, val, frames, "published (cluster/datasets.py)")


def frame_bytes(ds_cfg: Mapping[str, Any]) -> float:
    """Disk per stored frame of a base dataset, by storage mode and short side."""
    ds_cfg = defaults.dataset(ds_cfg)
    short = ds_cfg["extract"]["short_side"]
    return FRAME_BYTES_256[ds_cfg["storage"]] * (short / 256) ** 2


def prepared_bytes(params: Mapping[str, Any], base: str) -> float:
    """Disk of a base dataset's extracted frames (or re-encoded videos), every split."""
    size = dataset_size(params, base)
    return (size.train + size.val) * size.frames_per_video * frame_bytes(params["datasets"][base])
