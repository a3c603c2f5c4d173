"""Throughput measurements of the data path: decoder, training pipeline and loader, side by side.

Why: on a GPU cluster the input pipeline, not the model, is often the bottleneck of 2D models;
``actionbench benchmark-data`` tells whether more workers (or a faster disk) are needed before a
week of GPU time is spent finding out. The loader timed here is the engine's own
(:func:`actionbench.engine.loader.make_loader` with its samplers): there is one loader.

:func:`benchmark_pipeline` answers "how close is the loader to its decoder": on ONE thread it
decodes the very frames a training epoch samples (decode only), then runs the training pipeline
(sampling, decode, multi-scale crop, resize, flip; uint8 out, normalisation left to the device)
on the same videos, then the same pipeline with the float conversion and normalisation in the
worker (the layout before normalisation moved to the device), and PIL decoding with and
without JPEG draft mode (decoding at a reduced DCT scale). Rounds are interleaved so the
machine's load hits every variant alike; the best round of each counts.
"""

from __future__ import annotations

import gc
import os
import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from actionbench.data.dataset import VideoClipDataset, decode_frame, frame_path
from actionbench.defaults import DATASET
from actionbench.engine.loader import EpochShardSampler, SeededItems, ShardSampler, make_loader
from actionbench.errors import DataError

# Table 8 of the paper: TSN-ResNet50 with temporal pooling trains 53.5 clips/s on one V100 at
# 8 frames, i.e. 428 frames/s the loader must deliver per GPU.
V100_TSN_R50_TP_FRAMES_PER_S = 428.0


def default_scale_size(input_size: int) -> int:
    """The test resize for an input size, in the defaults' proportion (256 for 224)."""
    return max(input_size, round(input_size * DATASET["scale_size"] / DATASET["input_size"]))


def _engine_loader(dataset: VideoClipDataset, batch_size: int, workers: int, seed: int):
    """The loader and sampler the training loop would build for ``dataset``."""
    if dataset.train:
        sampler = EpochShardSampler(len(dataset), batch_size, seed=seed)
        items: Any = SeededItems(dataset, seed)
    else:
        sampler = ShardSampler(len(dataset))
        items = dataset
    loader = make_loader(items, sampler, batch_size, workers, pin_memory=False, seed=seed)
    return loader, sampler


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
    protocol: str = "reference",
) -> dict[str, Any]:
    """Iterate the engine's loader for at least ``num_batches`` batches, in whole epochs.

    The first batch (worker start-up, cold caches) is timed separately and excluded from the
    steady-state rates ``clips_per_s`` and ``frames_per_s``. Clips stay uint8 (normalisation
    runs on the device in training, not in the loader).
    """
    dataset = VideoClipDataset(
        list_csv,
        num_frames=num_frames,
        sampling=sampling,
        train=train,
        input_size=input_size,
        scale_size=scale_size or default_scale_size(input_size),
        root=root,
        protocol=protocol,
    )
    loader, sampler = _engine_loader(dataset, batch_size, workers, seed)
    if len(loader) == 0:
        raise DataError(f"{list_csv}: fewer than batch_size={batch_size} videos; nothing to time")
    clips = 0
    batches = 0
    epoch = 0
    children_cpu = _children_cpu_s()
    start = time.perf_counter()
    first_batch_s = None
    steady_start = start
    # Whole epochs only: a loader left mid-epoch has batches in flight that were decoded but
    # never counted, which would bias the workers' CPU time per frame.
    while batches < num_batches:
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        epoch += 1
        for clip, _, _ in loader:
            batches += 1
            if first_batch_s is None:
                first_batch_s = time.perf_counter() - start
                steady_start = time.perf_counter()
            else:
                clips += clip.shape[0]
    elapsed = time.perf_counter() - steady_start
    produced = batches * batch_size  # every clip the workers made, the first batch included
    gc.collect()  # exhausted iterators have joined their workers: their CPU time is counted
    worker_cpu = _children_cpu_s() - children_cpu
    views = 1 if train else dataset.views_per_video
    return {
        "list": str(list_csv),
        "num_frames": num_frames,
        "batch_size": batch_size,
        "workers": workers,
        "input_size": input_size,
        "sampling": sampling,
        "train": train,
        "protocol": protocol,
        "batches": batches,
        "first_batch_s": round(first_batch_s or 0.0, 4),
        "steady_batches": max(0, batches - 1),
        "steady_s": round(elapsed, 4),
        "clips_per_s": round(clips * views / elapsed, 2) if clips else None,
        "frames_per_s": round(clips * views * num_frames / elapsed, 1) if clips else None,
        "torch_threads": torch.get_num_threads(),
        # CPU seconds the worker processes used (start-up and every batch): load-independent.
        "worker_cpu_s": round(worker_cpu, 3) if workers else None,
        "worker_frames_per_cpu_s": (
            round(produced * views * num_frames / worker_cpu, 1)
            if workers and worker_cpu > 0
            else None
        ),
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pil_decoder(draft_size: tuple[int, int] | None) -> Callable[[Path], torch.Tensor]:
    from PIL import Image

    def decode(path: Path) -> torch.Tensor:
        with Image.open(path) as image:
            if draft_size is not None:
                image.draft("RGB", draft_size)  # JPEG: decode at the smallest DCT scale >= size
            return torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1)

    return decode


def benchmark_decoders(files: Sequence[str | os.PathLike], repeats: int = 3) -> dict[str, float]:
    """Frames/s of torchvision.io.decode_jpeg vs PIL (+ conversion to a CHW tensor), 1 thread."""
    paths = [Path(f) for f in files] * repeats
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rates = {}
        for name, fn in (("decode_jpeg", decode_frame), ("pil", _pil_decoder(None))):
            fn(paths[0])  # warm-up
            start = time.perf_counter()
            for path in paths:
                fn(path)
            rates[name] = round(len(paths) / (time.perf_counter() - start), 1)
    finally:
        torch.set_num_threads(threads)
    rates["speedup"] = round(rates["decode_jpeg"] / rates["pil"], 2)
    return rates


def _float_in_worker(dataset: VideoClipDataset) -> Callable[[int, np.random.Generator], Any]:
    """The pre-device-normalisation pipeline: NCHW stack, resize, float + mean/std per clip."""
    from torchvision.transforms.v2 import functional as F

    from actionbench.models.weights.normalization import IMAGENET_MEAN, IMAGENET_STD

    shift = torch.tensor([255.0 * m for m in IMAGENET_MEAN]).view(1, 3, 1, 1)
    scale = torch.tensor([255.0 * s for s in IMAGENET_STD]).view(1, 3, 1, 1)
    size = dataset.transform.input_size

    def item(index: int, rng: np.random.Generator) -> torch.Tensor:
        indices = dataset.sample_indices(index, rng)[0]
        frames = torch.stack(
            [decode_frame(frame_path(dataset.frames_dirs[index], int(i))) for i in indices]
        )
        top, left, h, w = dataset.transform.crop_params(frames.shape[-2], frames.shape[-1], rng)
        out = F.resized_crop(frames, top, left, h, w, [size, size], antialias=True)
        if rng.random() < 0.5:
            out = out.flip(-1)
        return ((out.to(torch.float32) - shift) / scale).permute(1, 0, 2, 3).contiguous()

    return item


def benchmark_pipeline(
    list_csv: str | os.PathLike,
    num_frames: int = 8,
    input_size: int = DATASET["input_size"],
    scale_size: int | None = None,
    videos: int = 24,
    rounds: int = 3,
    root: str | os.PathLike | None = None,
    seed: int = 0,
    loader_batches: int = 0,
    loader_batch_size: int = 8,
) -> dict[str, Any]:
    """Decode-only vs training-pipeline frames/s on one thread, same videos, same frames.

    ``loader_batches > 0`` also times the engine's loader with ONE worker process (the
    per-worker rate, collation and inter-process transfer included). Returns frames/s per
    variant (best of ``rounds``), the ratios to decode-only and the workers one V100 needs at
    Table 8's TSN-R50-tp rate.
    """
    dataset = VideoClipDataset(
        list_csv,
        num_frames=num_frames,
        sampling="uniform",
        train=True,
        input_size=input_size,
        scale_size=scale_size or default_scale_size(input_size),
        root=root,
    )
    count = min(videos, len(dataset))
    if count == 0:
        raise DataError(f"{list_csv}: no videos to time")
    # The frames one epoch samples, fixed up front so every decoder decodes the same files.
    draws = [np.random.default_rng([seed, i]) for i in range(count)]
    samples = [dataset.sample_indices(i, rng)[0] for i, rng in enumerate(draws)]
    files = [
        [frame_path(dataset.frames_dirs[i], int(k)) for k in idx] for i, idx in enumerate(samples)
    ]
    height, width = decode_frame(files[0][0]).shape[-2:]
    frames_total = sum(len(f) for f in files)
    float_item = _float_in_worker(dataset)

    def decode_only(decoder: Callable[[Path], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            for clip in files:
                for path in clip:
                    decoder(path)

        return run

    def pipeline() -> None:
        for i in range(count):
            dataset.transform(dataset.load_frames(i, samples[i]), np.random.default_rng(i))

    def pipeline_sampled() -> None:
        for i in range(count):
            rng = np.random.default_rng(i)
            dataset.transform(dataset.load_frames(i, dataset.sample_indices(i, rng)[0]), rng)

    def float_pipeline() -> None:
        for i in range(count):
            float_item(i, np.random.default_rng(i))

    variants: dict[str, Callable[[], None]] = {
        "decode_jpeg": decode_only(decode_frame),
        "pil": decode_only(_pil_decoder(None)),
        "pil_draft": decode_only(_pil_decoder((input_size, input_size))),
        "pipeline_uint8": pipeline,
        "pipeline_uint8_resampled": pipeline_sampled,
        "pipeline_float_in_worker": float_pipeline,
    }
    wall = {name: float("inf") for name in variants}
    cpu = {name: float("inf") for name in variants}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for fn in variants.values():
            fn()  # warm-up: page cache, allocator
        for _ in range(rounds):
            for name, fn in variants.items():
                start, start_cpu = time.perf_counter(), time.thread_time()
                fn()
                cpu[name] = min(cpu[name], time.thread_time() - start_cpu)
                wall[name] = min(wall[name], time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    rates = {name: round(frames_total / seconds, 1) for name, seconds in wall.items()}
    cpu_rates = {name: round(frames_total / seconds, 1) for name, seconds in cpu.items()}
    result: dict[str, Any] = {
        "list": str(list_csv),
        "videos": count,
        "num_frames": num_frames,
        "frames_timed": frames_total,
        "frame_size": [int(height), int(width)],
        "input_size": input_size,
        "rounds": rounds,
        "frames_per_s": rates,
        "frames_per_cpu_s": cpu_rates,
        "ratio_to_decode": _ratios(rates),
        "cpu_ratio_to_decode": _ratios(cpu_rates),
        "pil_draft_size": _pil_decoder_size(files[0][0], input_size),
    }
    if loader_batches > 0:
        loader = benchmark_loader(
            list_csv, num_frames, loader_batch_size, workers=1, input_size=input_size,
            num_batches=loader_batches, scale_size=scale_size, root=root, seed=seed,
        )  # fmt: skip
        result["loader_1_worker"] = loader
        if loader["frames_per_s"]:
            result["ratio_to_decode"]["loader_1_worker"] = round(
                loader["frames_per_s"] / rates["decode_jpeg"], 3
            )
        if loader.get("worker_frames_per_cpu_s"):
            result["cpu_ratio_to_decode"]["loader_1_worker"] = round(
                loader["worker_frames_per_cpu_s"] / cpu_rates["decode_jpeg"], 3
            )
    # A worker on a dedicated core delivers its frames per CPU-second.
    per_worker = (result.get("loader_1_worker") or {}).get("worker_frames_per_cpu_s") or cpu_rates[
        "pipeline_uint8"
    ]
    result["v100_tsn_r50_tp_frames_per_s"] = V100_TSN_R50_TP_FRAMES_PER_S
    result["workers_per_v100"] = int(np.ceil(V100_TSN_R50_TP_FRAMES_PER_S / per_worker))
    return result


def _ratios(rates: dict[str, float]) -> dict[str, float]:
    return {name: round(rate / rates["decode_jpeg"], 3) for name, rate in rates.items()}


def _pil_decoder_size(path: Path, input_size: int) -> list[int]:
    """(height, width) PIL's draft mode actually decodes to for ``input_size`` square."""
    from PIL import Image

    with Image.open(path) as image:
        image.draft("RGB", (input_size, input_size))
        return [image.size[1], image.size[0]]
