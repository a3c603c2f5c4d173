"""What each storage mode costs and how fast it feeds a model: ``actionbench benchmark-data
--videos INDEX``.

Why: the paper's recipe (every frame to JPEG) is what makes Kinetics-400 a terabyte of tens of
millions of files; whether ``storage: video`` is worth it is a measurement, on the user's own
videos, of three preparations of the same index side by side:

* ``video_as_is``: train from the publisher's files: nothing to prepare;
* ``video_reencoded`` (one per GOP asked for): ``actionbench reencode``;
* ``frames``: ``actionbench extract``.

For each: bytes and files per 1,000 videos and the time to prepare them (wall seconds with the
given workers, scaled to 1,000 videos). Then, on the prepared files, the throughput of the
training pipeline per DataLoader worker (uniform sampling, training augmentation, ``input_size``
px) next to the decode-only throughput of the same frames on one thread, per storage mode and
video decoder: the loader's share of the decoder's speed (the target is at least 50%;
reports/benchmarks/video_storage.md has the figures).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from actionbench.data.dataset import VideoClipDataset
from actionbench.data.extract import extract_videos
from actionbench.data.ffmpeg_jobs import write_extraction
from actionbench.data.lists import build_lists, write_lists
from actionbench.data.reencode import ReencodeSettings, reencode_videos
from actionbench.defaults import DATASET
from actionbench.errors import DataError

log = logging.getLogger(__name__)


def tree_size(root: str | os.PathLike) -> tuple[int, int]:
    """(bytes, files) under ``root``, counting regular files only."""
    total, files = 0, 0
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                total += os.path.getsize(path)
                files += 1
    return total, files


def _per_thousand(value: float, videos: int) -> float:
    return value * 1000.0 / videos


def _row(mode: str, videos: int, size: tuple[int, int], seconds: float, **extra) -> dict:
    total, files = size
    return {
        "mode": mode,
        "videos": videos,
        "bytes": total,
        "files": files,
        "bytes_per_1000_videos": round(_per_thousand(total, videos)),
        "files_per_1000_videos": round(_per_thousand(files, videos)),
        "prepare_s": round(seconds, 2),
        "prepare_s_per_1000_videos": round(_per_thousand(seconds, videos), 1),
        **extra,
    }


def prepare_all(
    index: pd.DataFrame,
    work_dir: str | os.PathLike,
    short_side: int = DATASET["extract"]["short_side"],
    gops: tuple[int, ...] = (DATASET["reencode"]["gop"],),
    crf: int = DATASET["reencode"]["crf"],
    quality: int = DATASET["extract"]["quality"],
    workers: int = 1,
) -> tuple[list[dict], dict[str, Path]]:
    """Prepare ``index`` every way into ``work_dir`` (emptied first); returns the disk/time rows
    and, per mode, a train list over the prepared files."""
    work = Path(work_dir)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    videos = len(index)
    if videos == 0:
        raise DataError("the index is empty: nothing to measure")
    index = index.assign(split="train", label_name=index.get("label_name", "all"))
    sources = index["video_path"].astype(str)
    missing = [p for p in sources if not Path(p).is_file()]
    if missing:
        raise DataError(f"index: {len(missing)} video file(s) not found, e.g. {missing[0]}")
    raw_bytes = sum(Path(p).stat().st_size for p in sources)
    rows = [_row("video_as_is", videos, (raw_bytes, videos), 0.0)]
    lists: dict[str, Path] = {}

    raw = pd.DataFrame({"video_id": index["video_id"], "frames_dir": sources, "num_frames": 0})
    for gop in gops:
        start = time.perf_counter()
        result = reencode_videos(
            index, work / f"videos_g{gop}",
            ReencodeSettings(short_side=short_side, gop=gop, crf=crf), workers=workers,
            progress=False,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        _check(result, f"re-encode (gop {gop})")
        rows.append(
            _row(f"video_reencoded_g{gop}", videos, tree_size(work / f"videos_g{gop}"), seconds,
                 gop=gop, crf=crf)
        )  # fmt: skip
        lists[f"video_reencoded_g{gop}"] = _write_list(index, result.extracted, work / f"g{gop}")
        raw["num_frames"] = result.extracted["num_frames"].to_numpy()
    lists["video_as_is"] = _write_list(index, raw, work / "as_is")

    start = time.perf_counter()
    result = extract_videos(
        index, work / "frames", short_side=short_side, quality=quality, workers=workers,
        progress=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    _check(result, "extraction")
    write_extraction(result, work / "extracted.csv", work / "extract_failures.csv")
    rows.append(_row("frames", videos, tree_size(work / "frames"), seconds, quality=quality))
    lists["frames"] = _write_list(index, result.extracted, work / "frames_lists")
    for row in rows:
        row["workers"] = workers
    return rows, lists


def _check(result, what: str) -> None:
    if len(result.failures):
        first = result.failures.iloc[0]
        raise DataError(
            f"{what} failed for {len(result.failures)} video(s), e.g. {first['video_id']}: "
            f"{first['reason']}"
        )


def _write_list(index: pd.DataFrame, table: pd.DataFrame, out_dir: Path) -> Path:
    write_lists(build_lists(index, table), out_dir)
    return out_dir / "train.csv"


def _dataset(list_csv: Path, storage: str, decoder: str, frames: int, input_size: int,
             short_side: int) -> VideoClipDataset:  # fmt: skip
    return VideoClipDataset(
        list_csv, frames, sampling="uniform", train=True, input_size=input_size, flip=True,
        storage=storage, decoder=decoder, short_side=short_side if storage == "video" else None,
    )  # fmt: skip


def decode_only_fps(dataset: VideoClipDataset, items: int, seed: int = 0) -> float:
    """Frames/s of decoding the frames ``items`` training clips sample, on one thread."""
    rng = np.random.default_rng(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        order = rng.integers(0, len(dataset), items)
        dataset.load_frames(int(order[0]), dataset.sample_indices(int(order[0]), rng)[0])  # warm
        start = time.perf_counter()
        decoded = 0
        for i in order.tolist():
            decoded += len(dataset.load_frames(i, dataset.sample_indices(i, rng)[0]))
        return decoded / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)


def loader_fps(dataset: VideoClipDataset, items: int, batch_size: int, seed: int = 0) -> float:
    """Frames/s of one DataLoader worker delivering augmented training clips (first batch,
    the worker's start-up, excluded)."""
    from actionbench.engine.loader import EpochShardSampler, SeededItems, make_loader

    batch_size = min(batch_size, len(dataset))
    sampler = EpochShardSampler(len(dataset), global_batch=batch_size, seed=seed)
    loader = make_loader(SeededItems(dataset, seed), sampler, batch_size, 1, False, seed=seed)
    clips, start, epoch = 0, None, 0
    while clips < items:
        sampler.set_epoch(epoch)  # the engine's loader: one epoch per pass, reseeded per item
        epoch += 1
        for batch, _, _ in loader:
            if start is None:
                start = time.perf_counter()
                continue
            clips += batch.shape[0]
            if clips >= items:
                break
    return clips * dataset.num_frames / (time.perf_counter() - start)


def throughput(
    lists: dict[str, Path],
    decoders: tuple[str, ...],
    frames: int = 8,
    input_size: int = DATASET["input_size"],
    short_side: int = DATASET["extract"]["short_side"],
    items: int = 48,
    batch_size: int = 8,
) -> list[dict]:
    """Loader (1 worker) vs decode-only (1 thread) frames/s per storage mode and decoder, each
    pair measured back to back on the same files and sampled frames."""
    rows = []
    for mode, list_csv in lists.items():
        storage = "frames" if mode == "frames" else "video"
        for decoder in decoders if storage == "video" else ("decode_jpeg",):
            dataset = _dataset(
                list_csv, storage, decoder if storage == "video" else "auto", frames,
                input_size, short_side,
            )  # fmt: skip
            decode = decode_only_fps(dataset, items)
            loader = loader_fps(dataset, items, batch_size)
            rows.append({
                "mode": mode, "decoder": decoder, "frames": frames, "input_size": input_size,
                "decode_only_fps": round(decode, 1), "loader_fps_per_worker": round(loader, 1),
                "loader_vs_decode": round(loader / decode, 3),
            })  # fmt: skip
            log.info("%s/%s: decode-only %.0f frames/s, loader %.0f frames/s per worker",
                     mode, decoder, decode, loader)  # fmt: skip
    return rows


def benchmark_storage(
    index: pd.DataFrame,
    work_dir: str | os.PathLike,
    short_side: int = DATASET["extract"]["short_side"],
    gops: tuple[int, ...] = (DATASET["reencode"]["gop"],),
    crf: int = DATASET["reencode"]["crf"],
    workers: int = 1,
    decoders: tuple[str, ...] = ("torchcodec", "pyav"),
    frames: int = 8,
    input_size: int = DATASET["input_size"],
    items: int = 48,
    keep: bool = False,
    timed_modes: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Disk, files and preparation time per mode, then loader vs decoder throughput."""
    from actionbench.data.video_reader import backend_status

    status = backend_status()
    usable = tuple(d for d in decoders if status[d] is None)
    for name in sorted(set(decoders) - set(usable)):
        log.warning("decoder %s left out: %s", name, status[name])
    rows, lists = prepare_all(index, work_dir, short_side, gops, crf, workers=workers)
    if timed_modes is not None:
        unknown = sorted(set(timed_modes) - set(lists))
        if unknown:
            raise DataError(f"no storage mode(s) {unknown} to time; prepared: {list(lists)}")
        lists = {mode: path for mode, path in lists.items() if mode in timed_modes}
    result = {
        "videos": len(index),
        "short_side": short_side,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "storage": rows,
        "throughput": throughput(lists, usable, frames, input_size, short_side, items)
        if items > 0 else [],
        "decoders_unavailable": {d: status[d] for d in decoders if d not in usable},
    }  # fmt: skip
    if not keep:
        shutil.rmtree(work_dir, ignore_errors=True)
    return result
