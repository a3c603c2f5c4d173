"""The worker pool behind frame extraction and re-encoding: one single-threaded ffmpeg per video.

Why one module: ``actionbench extract`` and ``actionbench reencode`` run the same kind of job
(read ``video_id, video_path`` rows, write one output per video with ffmpeg) and must agree on
everything around it: which videos a shard owns (CRC32 of the id), which ids are safe to write,
how many workers, the ``.partial/`` folder that makes each output atomic, how a failure becomes
a row instead of a crash, the two result tables (done, failed) and their CSV files, and how
ffmpeg reads a folder of numbered images (Jester) and keeps every decoded frame. Each job
module keeps only what it does to one video.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from actionbench.data.adapters.base import is_safe_video_id
from actionbench.errors import ConfigError, DataError

PARTIAL_DIRNAME = ".partial"
EXTRACTED_COLUMNS = ["video_id", "frames_dir", "num_frames", "reused", "warning"]
FAILURE_COLUMNS = ["video_id", "video_path", "reason"]
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)(?P<ext>\.[A-Za-z]+)$")


@dataclass
class ExtractionResult:
    """``extracted``: video_id, frames_dir, num_frames, reused, warning.
    ``failures``: video_id, video_path, reason."""

    extracted: pd.DataFrame
    failures: pd.DataFrame


@dataclass
class VideoOutcome:
    """What happened to one video: extracted/reused (``reason`` empty) or failed (``reason``)."""

    video_id: str
    video_path: str
    frames_dir: str = ""
    num_frames: int = 0
    reused: bool = False
    warning: str = ""
    reason: str = ""


def shard_of(video_id: str, num_shards: int) -> int:
    """The shard a video belongs to; stable across Python versions, machines and runs."""
    return zlib.crc32(video_id.encode("utf-8")) % num_shards


def select_shard(index: pd.DataFrame, shard: int, num_shards: int) -> pd.DataFrame:
    """The rows of ``index`` that shard ``shard`` of ``num_shards`` extracts."""
    if num_shards < 1 or not 0 <= shard < num_shards:
        raise ConfigError(
            f"shard={shard}, num_shards={num_shards}; expected 0 <= shard < num_shards"
        )
    if num_shards == 1:
        return index
    mask = index["video_id"].map(lambda v: shard_of(str(v), num_shards) == shard)
    return index[mask.astype(bool)]


@lru_cache(maxsize=4)
def passthrough_args(exe: str) -> tuple[str, ...]:
    """Keep every decoded frame, no duplication/dropping: ``-fps_mode`` (ffmpeg >= 5.1) or the
    older ``-vsync`` (removed in ffmpeg 9), whichever this binary understands."""
    try:
        help_text = subprocess.run(
            [exe, "-hide_banner", "-h", "long"], capture_output=True, timeout=30, check=False
        ).stdout.decode("utf-8", errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        help_text = ""
    if "-fps_mode" in help_text:
        return ("-fps_mode", "passthrough")
    return ("-vsync", "passthrough")


def image_sequence(folder: Path) -> tuple[str, int, int]:
    """(printf pattern, first number, count) of a folder of consecutively numbered images."""
    names = sorted(
        e.name
        for e in os.scandir(folder)
        if e.name.lower().endswith(IMAGE_EXTENSIONS) and e.is_file()
    )
    if not names:
        raise DataError("frame folder holds no images")
    parsed = [_NUMBERED.match(n) for n in names]
    if any(m is None for m in parsed):
        bad = next(n for n, m in zip(names, parsed, strict=True) if m is None)
        raise DataError(f"frame file {bad!r} is not numbered")
    first = parsed[0]
    same_shape = all(
        (m["prefix"], m["ext"], len(m["digits"]))
        == (first["prefix"], first["ext"], len(first["digits"]))
        for m in parsed
    )
    numbers = sorted(int(m["digits"]) for m in parsed)
    if not same_shape or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise DataError("frame files are not one consecutively numbered sequence")
    width = len(first["digits"])
    prefix = first["prefix"].replace("%", "%%")
    return f"{prefix}%0{width}d{first['ext']}", numbers[0], len(numbers)


def check_index(index: pd.DataFrame) -> None:
    """An index a worker pool can write from: video_id and video_path columns, ids that are safe
    folder/file names and unique (one output per id). Extraction and re-encode share it."""
    for column in ("video_id", "video_path"):
        if column not in index.columns:
            raise DataError(f"index table lacks column {column!r}; expected video_id, video_path")
    ids = index["video_id"].astype(str)
    unsafe = [v for v in ids if not is_safe_video_id(v)]
    if unsafe:
        raise DataError(f"index has video_id(s) that are not filesystem-safe: {unsafe[:5]}")
    dupes = ids[ids.duplicated()].tolist()
    if dupes:
        raise DataError(f"index has duplicate video_id(s): {dupes[:5]}")


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS/Windows
        return os.cpu_count() or 1


def run_video_jobs(
    jobs: list[tuple[str, str]],
    work: Callable[[str, str], VideoOutcome],
    *,
    workers: int,
    desc: str,
    progress: bool,
    partial_dir: Path,
) -> list[VideoOutcome]:
    """``work(video_id, video_path)`` for every job on a thread pool; outcomes in job order.

    One ffmpeg per thread (extraction and re-encode alike); a bar on a terminal, in a batch log a
    line with rate and ETA every 30 s. The shared ``partial_dir`` is removed when left empty.
    """
    from actionbench.progress import Progress

    outcomes: dict[str, VideoOutcome] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(work, vid, path) for vid, path in jobs]
        bar = Progress(len(futures), desc, enabled=progress, unit="video")
        for future in as_completed(futures):
            outcome = future.result()
            outcomes[outcome.video_id] = outcome
            bar.update()
        bar.close()
    _remove_if_empty(partial_dir)
    return [outcomes[vid] for vid, _ in jobs]


def outcome_tables(ordered: list[VideoOutcome]) -> ExtractionResult:
    """The done and failed tables of a pool's outcomes (extraction's columns)."""
    done = [o for o in ordered if not o.reason]
    failed = [o for o in ordered if o.reason]
    return ExtractionResult(
        extracted=pd.DataFrame(
            [[o.video_id, o.frames_dir, o.num_frames, o.reused, o.warning] for o in done],
            columns=EXTRACTED_COLUMNS,
        ),
        failures=pd.DataFrame(
            [[o.video_id, o.video_path, o.reason] for o in failed], columns=FAILURE_COLUMNS
        ),
    )


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # absent, or another shard is still working in it
        folder.rmdir()


def write_extraction(
    result: ExtractionResult, out_csv: str | os.PathLike, failures_csv: str | os.PathLike
) -> None:
    """Write the extracted and failures tables as CSV (parents created)."""
    for table, path in ((result.extracted, out_csv), (result.failures, failures_csv)):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, index=False)
