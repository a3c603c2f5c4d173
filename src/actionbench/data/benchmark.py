"""Throughput measurements of the data path: loader clips/s and JPEG decoder frames/s.

Why: on a GPU cluster the input pipeline, not the model, is often the bottleneck of 2D models;
``actionbench benchmark-data`` tells whether more workers (or a faster disk) are needed before a
week of GPU time is spent finding out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from actionbench.data.dataset import VideoClipDataset, build_loader, decode_frame
from actionbench.errors import DataError


def benchmark_loader(
    list_csv: str | os.PathLike,
    num_frames: int,
    batch_size: int,
    workers: int,
    input_size: int,
    num_batches: int = 10,
    sampling: str = "uniform",
    train: bool = True,
    scale_size: int | None = None,
    root: str | os.PathLike | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Iterate the loader for ``num_batches`` batches (re-entering epochs when the list is short).

    The first batch (worker start-up, cold caches) is timed separately and excluded from the
    steady-state rates ``clips_per_s`` and ``frames_per_s``.
    """
    dataset = VideoClipDataset(
        list_csv,
        num_frames=num_frames,
        sampling=sampling,
        train=train,
        input_size=input_size,
        scale_size=scale_size or max(input_size, round(input_size * 256 / 224)),
        root=root,
    )
    loader = build_loader(dataset, batch_size, train=train, workers=workers, seed=seed)
    if len(loader) == 0:
        raise DataError(f"{list_csv}: fewer than batch_size={batch_size} videos; nothing to time")
    clips = 0
    batches = 0
    start = time.perf_counter()
    first_batch_s = None
    steady_start = start
    while batches < num_batches:
        for clip, _, _ in loader:
            batches += 1
            if first_batch_s is None:
                first_batch_s = time.perf_counter() - start
                steady_start = time.perf_counter()
            else:
                clips += clip.shape[0]
            if batches >= num_batches:
                break
    elapsed = time.perf_counter() - steady_start
    views = 1 if train else dataset.views_per_video
    return {
        "list": str(list_csv),
        "num_frames": num_frames,
        "batch_size": batch_size,
        "workers": workers,
        "input_size": input_size,
        "sampling": sampling,
        "train": train,
        "batches": batches,
        "first_batch_s": round(first_batch_s or 0.0, 4),
        "steady_batches": max(0, batches - 1),
        "steady_s": round(elapsed, 4),
        "clips_per_s": round(clips * views / elapsed, 2) if clips else None,
        "frames_per_s": round(clips * views * num_frames / elapsed, 1) if clips else None,
        "torch_threads": torch.get_num_threads(),
    }


def benchmark_decoders(files: Sequence[str | os.PathLike], repeats: int = 3) -> dict[str, float]:
    """Frames/s of torchvision.io.decode_jpeg vs PIL (+ conversion to a CHW tensor), 1 thread."""
    import numpy as np
    from PIL import Image

    def pil(path: Path) -> torch.Tensor:
        with Image.open(path) as image:
            return torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1).contiguous()

    paths = [Path(f) for f in files] * repeats
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rates = {}
        for name, fn in (("decode_jpeg", decode_frame), ("pil", pil)):
            fn(paths[0])  # warm-up
            start = time.perf_counter()
            for path in paths:
                fn(path)
            rates[name] = round(len(paths) / (time.perf_counter() - start), 1)
    finally:
        torch.set_num_threads(threads)
    rates["speedup"] = round(rates["decode_jpeg"] / rates["pil"], 2)
    return rates
