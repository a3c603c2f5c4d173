"""Speed and memory of a model: time per training or inference step, peak memory, and the
largest batch that fits on a GPU (the paper's Table 8 columns).

A training step is what the engine does: forward, cross-entropy, backward, SGD (momentum 0.9)
step. Time is wall-clock per step (median and minimum over ``iters`` steps after ``warmup``);
on CPU the process CPU time per step is reported too, because on a shared machine it is far
less sensitive to other processes than wall time. Peak memory is
``torch.cuda.max_memory_allocated`` on GPUs and the peak resident set size sampled during the
timed steps on CPU.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from actionbench.defaults import DATASET
from actionbench.errors import ModelError

log = logging.getLogger(__name__)

MODES = ("train", "inference")


def configure_cpu_allocator() -> bool:
    """Make glibc keep freed memory instead of returning it to the OS (opt-in, process-wide).

    By default glibc serves allocations above 32 MB with fresh ``mmap`` pages and unmaps them
    on free, so every large activation of every step is page-faulted (zero-filled by the
    kernel) again; on a 2-core CPU that is ~10% of a ResNet50 video training step, and it
    falls hardest on modules that add an activation per block (TAM, TSM). Serving them from
    the heap and never trimming it (glibc ``mallopt``, the knob PyTorch's CPU tuning guide
    reaches with jemalloc/tcmalloc) removes the cost; the process keeps its peak memory.
    Returns False where glibc is not the allocator.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4
    ok = mallopt(m_mmap_max, 0) == 1 and mallopt(m_trim_threshold, 2**31 - 1) == 1
    log.info("glibc allocator: mmap for large blocks %s", "disabled" if ok else "unchanged")
    return ok


class _RssSampler:
    """Peak RSS of this process, sampled every few milliseconds in a background thread."""

    def __init__(self, interval: float = 0.005) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(self._interval)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def _num_classes(model: nn.Module) -> int:
    config = getattr(model, "config", None)
    if config and "num_classes" in config:
        return int(config["num_classes"])
    fc = getattr(model, "fc", None)
    if isinstance(fc, nn.Linear):
        return fc.out_features
    raise ModelError("cannot tell the model's number of classes; pass num_classes")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_step(
    model: nn.Module,
    batch_size: int,
    frames: int,
    size: int = DATASET["input_size"],
    device: str | torch.device = "cpu",
    mode: str = "train",
    num_classes: int | None = None,
    amp: torch.dtype | None = None,
    channels_last: bool = False,
    compile: bool = False,
) -> Callable[[], None]:
    """One benchmark step of ``model`` on a fixed random clip batch, as a callable.

    Lets a caller interleave the steps of several models (fairer on a shared machine).
    ``amp`` (an autocast dtype, fp16 with a GradScaler), ``channels_last`` and ``compile``
    do what the engine's ``runtime.*`` keys of the same names do."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ModelError("device 'cuda' requested but torch.cuda.is_available() is False")
    model = model.to(device)
    classes = num_classes or _num_classes(model)
    gen = torch.Generator().manual_seed(0)
    clip = torch.randn(batch_size, 3, frames, size, size, generator=gen).to(device)
    labels = torch.randint(0, classes, (batch_size,), generator=gen).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)  # 4D weights; 5D ones below
        for p in model.parameters():
            if p.dim() == 5:
                p.data = p.data.contiguous(memory_format=torch.channels_last_3d)
        clip = clip.contiguous(memory_format=torch.channels_last_3d)
    step = _step_fn(model, clip, labels, mode, amp, compile)

    def run() -> None:
        step()
        _sync(device)

    return run


def _step_fn(
    model: nn.Module,
    clip: torch.Tensor,
    labels: torch.Tensor,
    mode: str,
    amp: torch.dtype | None = None,
    compile: bool = False,
):
    forward = torch.compile(model) if compile else model

    def autocast():
        if amp is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=clip.device.type, dtype=amp)

    if mode == "train":
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        scaler = torch.amp.GradScaler(clip.device.type, enabled=amp is torch.float16)

        def step() -> None:
            optimizer.zero_grad(set_to_none=True)
            with autocast():
                loss = F.cross_entropy(forward(clip).float(), labels)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

        return step
    if mode == "inference":
        model.eval()

        def step() -> None:
            with torch.inference_mode(), autocast():
                forward(clip)

        return step
    raise ModelError(f"mode must be one of {MODES}, got {mode!r}")


def benchmark_model(
    model: nn.Module,
    batch_size: int,
    frames: int,
    size: int = DATASET["input_size"],
    device: str | torch.device = "cpu",
    mode: str = "train",
    warmup: int = 1,
    iters: int = 3,
    num_classes: int | None = None,
    amp: torch.dtype | None = None,
    channels_last: bool = False,
    compile: bool = False,
) -> dict[str, Any]:
    """Time ``iters`` steps of ``model`` on random ``(batch, 3, frames, size, size)`` clips.

    Returns ``clips_per_s``, ``step_ms`` (median), ``step_ms_min``, ``step_ms_all``,
    ``cpu_ms`` (median process CPU time per step; CPU only), ``peak_mem_bytes`` and the setup.
    Training steps update the model's weights (use a throw-away model).
    """
    if iters < 1 or warmup < 0 or batch_size < 1:
        raise ModelError("benchmark needs iters >= 1, warmup >= 0 and batch_size >= 1")
    device = torch.device(device)
    step = make_step(
        model, batch_size, frames, size, device, mode, num_classes, amp, channels_last, compile
    )
    for _ in range(warmup):
        step()

    walls: list[float] = []
    cpus: list[float] = []
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    sampler = _RssSampler() if device.type == "cpu" else None
    with sampler if sampler is not None else contextlib.nullcontext():
        for _ in range(iters):
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else sampler.peak
    median = statistics.median(walls)
    return {
        "mode": mode,
        "device": str(device),
        "batch_size": batch_size,
        "frames": frames,
        "size": size,
        "warmup": warmup,
        "iters": iters,
        "threads": torch.get_num_threads(),
        "step_ms": median * 1e3,
        "step_ms_min": min(walls) * 1e3,
        "step_ms_all": [w * 1e3 for w in walls],
        "cpu_ms": statistics.median(cpus) * 1e3 if device.type == "cpu" else None,
        "clips_per_s": batch_size / median,
        "peak_mem_bytes": int(peak),
        "amp": str(amp).removeprefix("torch.") if amp is not None else "float32",
        "channels_last": channels_last,
        "compile": compile,
    }


def _fits(
    model: nn.Module, batch: int, frames: int, size: int, device, mode: str, **opts: Any
) -> bool:
    try:
        benchmark_model(model, batch, frames, size, device, mode, warmup=0, iters=1, **opts)
        return True
    except torch.cuda.OutOfMemoryError:
        return False
    finally:
        model.zero_grad(set_to_none=True)
        torch.cuda.empty_cache()


def max_batch_size(
    model: nn.Module,
    frames: int,
    size: int = DATASET["input_size"],
    device: str | torch.device = "cuda",
    mode: str = "train",
    start: int = 1,
    limit: int = 4096,
    **opts: Any,
) -> int:
    """Largest batch for which one ``mode`` step fits in GPU memory (Table 8's last column).

    Doubles from ``start`` until a step runs out of memory, then bisects (``opts``: amp, channels_last,
    compile as for :func:`benchmark_model`). GPU only: on a CPU
    the limit is the machine's (virtual) memory and an out-of-memory ends the process rather
    than raising, so there is nothing safe to search.
    """
    device = torch.device(device)
    if device.type != "cuda":
        raise ModelError(
            f"max batch size search needs a CUDA device (got {device}); on CPU an "
            "out-of-memory kills the process instead of raising an error"
        )
    if not torch.cuda.is_available():
        raise ModelError("max batch size search needs CUDA, but torch.cuda.is_available() is False")
    model = model.to(device)
    if not _fits(model, start, frames, size, device, mode, **opts):
        raise ModelError(f"even batch size {start} does not fit on {device}")
    good, bad = start, None
    while bad is None and good < limit:
        trial = min(good * 2, limit)
        if _fits(model, trial, frames, size, device, mode, **opts):
            good = trial
        else:
            bad = trial
    if bad is None:
        return good
    while bad - good > 1:
        mid = (good + bad) // 2
        if _fits(model, mid, frames, size, device, mode, **opts):
            good = mid
        else:
            bad = mid
    log.info("max batch size on %s (%s): %d", device, mode, good)
    return good
