"""The built-in synthetic dataset: tiny mp4 videos where motion either matters or does not.

Why it exists: the paper's central finding — a model without temporal modelling (TSN) fails
where motion matters — must be visible on a laptop in minutes. So the set has two groups:

* **temporal** classes come in pairs (a *family*). Both classes of a pair show the same object
  on the same kind of background; one plays a rendered sequence forward, the other plays an
  identically distributed sequence reversed (right vs left, grow vs shrink, ...). The *set* of
  frames of a video carries no information about which class of the pair it is, so a model that
  pools per-frame predictions (TSN) is exactly at chance within a pair, by construction.
* **spatial** classes differ in appearance (shape and colour) and move in an uninformative
  random walk, so any frame alone identifies the class.

Videos are written through ffmpeg (real H.264 mp4s) in the same raw layout an adapter reads:
``<raw_dir>/videos/<video_id>.mp4``, ``<raw_dir>/annotations.csv`` (video_id, filename, split,
label_name, group, family) and ``<raw_dir>/classes.csv`` (label_name, group, family).
Everything is a pure function of the seed, so the set is reproducible byte for byte.
"""

from __future__ import annotations

import csv
import logging
import os
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from actionbench.data.ffmpeg_bin import ffmpeg_exe
from actionbench.defaults import SYNTH
from actionbench.errors import DataError

log = logging.getLogger(__name__)

# Temporal families: (forward class, reversed class, trajectory kind).
TEMPORAL_FAMILIES = [
    ("move_right", "move_left", "horizontal"),
    ("grow", "shrink", "scale"),
    ("move_down", "move_up", "vertical"),
    ("fade_in", "fade_out", "fade"),
]
# Spatial classes: (name, shape, RGB colour). All share the same random-walk motion model.
SPATIAL_CLASSES = [
    ("red_disk", "disk", (220, 40, 40)),
    ("green_triangle", "triangle", (40, 200, 60)),
    ("blue_cross", "cross", (50, 80, 230)),
    ("yellow_ring", "ring", (230, 210, 40)),
    ("magenta_square", "square", (210, 50, 200)),
    ("cyan_disk", "disk", (40, 210, 210)),
    ("orange_cross", "cross", (240, 140, 30)),
    ("white_triangle", "triangle", (235, 235, 235)),
]
TEMPORAL_OBJECT_RGB = (200, 200, 200)  # every temporal class shows the same grey square


@dataclass(frozen=True)
class SynthConfig:
    seed: int = SYNTH["seed"]
    size: int = SYNTH["size"]
    fps: int = SYNTH["fps"]
    num_frames: int = SYNTH["num_frames"]
    train_per_class: int = SYNTH["train_per_class"]
    val_per_class: int = SYNTH["val_per_class"]
    temporal_pairs: int = SYNTH["temporal_pairs"]
    spatial_classes: int = SYNTH["spatial_classes"]

    def __post_init__(self) -> None:
        if not 1 <= self.temporal_pairs <= len(TEMPORAL_FAMILIES):
            raise DataError(f"synth.temporal_pairs must be 1..{len(TEMPORAL_FAMILIES)}")
        if not 0 <= self.spatial_classes <= len(SPATIAL_CLASSES):
            raise DataError(f"synth.spatial_classes must be 0..{len(SPATIAL_CLASSES)}")


@dataclass(frozen=True)
class ClassSpec:
    label_name: str
    group: str  # "temporal" | "spatial"
    family: str
    render: Callable[[np.random.Generator, SynthConfig], np.ndarray]


# --------------------------------------------------------------------------- drawing


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Low-contrast smooth noise, independent of the class."""
    coarse = rng.integers(40, 90, size=(size // 8 + 1, size // 8 + 1, 3)).astype(np.float32)
    bg = np.kron(coarse, np.ones((8, 8, 1), np.float32))[:size, :size]
    return bg


def _mask(shape: str, size: int, cx: float, cy: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dx, dy = xx - cx, yy - cy
    if shape == "square":
        return (np.abs(dx) <= r) & (np.abs(dy) <= r)
    if shape == "disk":
        return dx * dx + dy * dy <= r * r
    if shape == "ring":
        d2 = dx * dx + dy * dy
        return (d2 <= r * r) & (d2 >= (0.55 * r) ** 2)
    if shape == "cross":
        w = r * 0.38
        return ((np.abs(dx) <= w) & (np.abs(dy) <= r)) | ((np.abs(dy) <= w) & (np.abs(dx) <= r))
    if shape == "triangle":
        # apex up: inside when below the two slanted edges and above the base
        return (dy <= r) & (dy >= -r) & (np.abs(dx) <= (dy + r) / 2)
    raise ValueError(shape)


def _paint(frame: np.ndarray, mask: np.ndarray, rgb, alpha: float = 1.0) -> None:
    frame[mask] = (1 - alpha) * frame[mask] + alpha * np.asarray(rgb, np.float32)


def _temporal_sequence(kind: str) -> Callable[[np.random.Generator, SynthConfig], np.ndarray]:
    """A forward sequence of the family; the reversed class plays it backwards."""

    def render(rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
        s, n = cfg.size, cfg.num_frames
        bg = _background(rng, s)
        t = np.linspace(0.0, 1.0, n, dtype=np.float32)
        r = s * rng.uniform(0.10, 0.14)
        lo, hi = s * rng.uniform(0.15, 0.25), s * rng.uniform(0.75, 0.85)
        fixed = s * rng.uniform(0.3, 0.7)
        frames = np.empty((n, s, s, 3), np.float32)
        for i in range(n):
            frame = bg.copy()
            alpha = 1.0
            cx = cy = fixed
            radius = r
            if kind == "horizontal":
                cx = lo + (hi - lo) * t[i]
            elif kind == "vertical":
                cy = lo + (hi - lo) * t[i]
            elif kind == "scale":
                radius = s * (0.05 + 0.25 * t[i])
                cx, cy = fixed, s * 0.5
            elif kind == "fade":
                alpha = 0.05 + 0.95 * t[i]
                cx, cy = fixed, s * 0.5
            _paint(frame, _mask("square", s, cx, cy, radius), TEMPORAL_OBJECT_RGB, alpha)
            frames[i] = frame
        return frames

    return render


def _spatial_sequence(shape: str, rgb) -> Callable[[np.random.Generator, SynthConfig], np.ndarray]:
    def render(rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
        s, n = cfg.size, cfg.num_frames
        bg = _background(rng, s)
        r = s * rng.uniform(0.14, 0.18)
        steps = rng.normal(0.0, s * 0.02, size=(n, 2))
        path = np.cumsum(steps, axis=0) + rng.uniform(0.35, 0.65, size=2) * s
        path = np.clip(path, r, s - r)
        frames = np.empty((n, s, s, 3), np.float32)
        for i in range(n):
            frame = bg.copy()
            _paint(frame, _mask(shape, s, path[i, 0], path[i, 1], r), rgb)
            frames[i] = frame
        return frames

    return render


def class_specs(cfg: SynthConfig) -> list[ClassSpec]:
    specs: list[ClassSpec] = []
    for fwd, rev, kind in TEMPORAL_FAMILIES[: cfg.temporal_pairs]:
        forward = _temporal_sequence(kind)
        specs.append(ClassSpec(fwd, "temporal", kind, forward))
        specs.append(ClassSpec(rev, "temporal", kind, _reversed(forward)))
    for name, shape, rgb in SPATIAL_CLASSES[: cfg.spatial_classes]:
        specs.append(ClassSpec(name, "spatial", name, _spatial_sequence(shape, rgb)))
    return specs


def _reversed(render):
    def reversed_render(rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
        return render(rng, cfg)[::-1]

    return reversed_render


# --------------------------------------------------------------------------- encoding


def encode_mp4(frames: np.ndarray, path: Path, fps: int) -> None:
    """Write (T, H, W, 3) frames as an H.264 mp4 through ffmpeg (bit-exact, atomic)."""
    import ffmpeg  # ffmpeg-python builds the argument list; nothing goes through a shell

    n, h, w, _ = frames.shape
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".mp4", dir=path.parent, prefix=".tmp-")
    os.close(fd)
    args = (
        ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{w}x{h}", r=fps)
        .output(
            tmp,
            vcodec="libx264",
            pix_fmt="yuv420p",
            crf=18,
            preset="veryfast",
            threads=1,
            fflags="+bitexact",
            **{"flags:v": "+bitexact", "map_metadata": -1},
        )
        .overwrite_output()
        .get_args()
    )
    data = np.clip(frames, 0, 255).astype(np.uint8).tobytes()
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *args],
        input=data,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        Path(tmp).unlink(missing_ok=True)
        raise DataError(f"ffmpeg failed to write {path}: {proc.stderr.decode(errors='replace')}")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- the dataset


def generate(raw_dir: str | os.PathLike, cfg: SynthConfig, workers: int | None = None) -> Path:
    """Render the whole synthetic set into ``raw_dir``; returns the annotations file."""
    from actionbench.progress import Progress

    raw_dir = Path(raw_dir)
    specs = class_specs(cfg)
    jobs = []
    for class_idx, spec in enumerate(specs):
        for split, count in (("train", cfg.train_per_class), ("val", cfg.val_per_class)):
            for k in range(count):
                video_id = f"{spec.label_name}_{split}_{k:03d}"
                # One independent stream per video: adding videos never changes existing ones.
                seed = [cfg.seed, class_idx, 0 if split == "train" else 1, k]
                jobs.append((video_id, spec, split, seed))

    def render_one(job) -> None:
        video_id, spec, _, seed = job
        frames = spec.render(np.random.default_rng(seed), cfg)
        encode_mp4(np.ascontiguousarray(frames), raw_dir / "videos" / f"{video_id}.mp4", cfg.fps)

    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        progress = Progress(len(jobs), "synth", unit="video")
        for _ in pool.map(render_one, jobs):
            progress.update()
        progress.close()

    annotations = raw_dir / "annotations.csv"
    _write_csv(
        annotations,
        ["video_id", "filename", "split", "label_name", "group", "family"],
        [
            [vid, f"videos/{vid}.mp4", split, spec.label_name, spec.group, spec.family]
            for vid, spec, split, _ in jobs
        ],
    )
    _write_csv(
        raw_dir / "classes.csv",
        ["label_name", "group", "family"],
        [[s.label_name, s.group, s.family] for s in specs],
    )
    log.info("synthetic set: %d classes, %d videos in %s", len(specs), len(jobs), raw_dir)
    return annotations


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    with tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(tmp, path)
