"""One-time re-encode of a dataset's videos for ``storage: video``: ``<videos_root>/<id>.mp4``.

Why: training from the publisher's files would decode full-resolution frames and, with their
long GOPs (often 250 frames), decode up to a few hundred frames for every sampled one. The
re-encode writes H.264 at the dataset's ``short_side`` (256 for real data, as frames mode) with a
keyframe every ``gop`` frames (no scene-cut keyframes, no B-frames), so a reader seeks to a
keyframe at most ``gop - 1`` frames before any wanted one. It replaces frame extraction: one file
per video instead of one per frame. reports/benchmarks/video_storage.md has the figures. A
frame folder (Jester) is re-encoded image by image, as extraction renumbers it.

Same frames as extraction: every decoded frame is kept (``fps`` resamples exactly as
``actionbench extract --fps`` does), scaled with the same filter to the same shorter side (sides
rounded to even, which 4:2:0 H.264 needs), so frame ``i`` of the re-encoded file is
``img_{i+1:05d}.jpg`` of frames mode. ``num_frames`` is probed from the written file.

Like extraction: parallel single-threaded ffmpeg processes, CRC32 shards, idempotent, atomic
(written to ``.partial/`` then renamed), failures are rows. Like a frame folder, each file has a
record beside it, ``<id>.mp4.json`` (settings, ffmpeg version, source size, frame count, byte
size): a file is reused only when its record says it was made from the same source with the
same settings, so changing ``short_side``, ``gop``, ``crf`` or ``fps`` re-encodes, and
``actionbench lists`` digests the record into the list row (a run's identity covers it). The result
table has extraction's columns (video_id, frames_dir, num_frames, reused, warning), its
``frames_dir`` holding the video file, so ``actionbench lists`` builds lists from either.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from actionbench.data import ffmpeg_jobs, frame_record
from actionbench.data.ffmpeg_bin import ffmpeg_exe
from actionbench.data.probe import (
    input_url,
    last_meaningful_line,
    probe_video,
    video_stream_problem,
)
from actionbench.defaults import DATASET
from actionbench.errors import ConfigError, DataError

log = logging.getLogger(__name__)

VIDEO_SUFFIX = ".mp4"
# The settings a re-encoded file's record keeps (a change re-encodes it).
RECORD_SETTINGS = ("short_side", "gop", "crf", "preset", "fps")
# Frame rate stamped on a re-encoded frame folder (Jester's); only timestamps, every image is kept.
FOLDER_FPS = 12


@dataclass(frozen=True)
class ReencodeSettings:
    """How every video of a dataset is re-encoded."""

    short_side: int | None = DATASET["extract"]["short_side"]
    gop: int = DATASET["reencode"]["gop"]
    crf: int = DATASET["reencode"]["crf"]
    preset: str = "veryfast"
    fps: float | None = None
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if self.short_side is not None and self.short_side < 8:
            raise ConfigError(f"short_side={self.short_side}; expected >= 8 pixels (or None)")
        if self.gop < 1:
            raise ConfigError(f"gop={self.gop}; expected a keyframe interval >= 1 frame")
        if not 0 <= self.crf <= 51:
            raise ConfigError(f"crf={self.crf}; expected x264 -crf in 0..51 (lower is better)")
        if self.fps is not None and self.fps <= 0:
            raise ConfigError(f"fps={self.fps}; expected > 0 (or None to keep every frame)")


def video_file(videos_root: str | os.PathLike, video_id: str) -> Path:
    """Where the re-encoded file of ``video_id`` lives."""
    return Path(videos_root) / f"{video_id}{VIDEO_SUFFIX}"


def record_path(video: str | os.PathLike) -> Path:
    """The record written beside a re-encoded file (``<id>.mp4.json``)."""
    return Path(f"{video}.json")


def make_video_record(
    dest: Path, source: Path, settings: ReencodeSettings, num_frames: int
) -> dict:
    """What made a re-encoded file and what it holds (see the module doc)."""
    return {
        "version": frame_record.RECORD_VERSION,
        "settings": {k: getattr(settings, k) for k in RECORD_SETTINGS},
        "ffmpeg": frame_record.ffmpeg_version(ffmpeg_exe()),
        "source": frame_record.source_stamp(source),
        "num_frames": num_frames,
        "bytes": dest.stat().st_size,
    }


def reusable(dest: Path, source: Path, settings: ReencodeSettings) -> dict | None:
    """The record of ``dest`` when it can be kept as it is (same settings, same source size,
    the file as written), else None: it must be (re-)encoded."""
    try:
        record = json.loads(record_path(dest).read_text())
        size = dest.stat().st_size
    except (OSError, ValueError):
        return None  # no file, or none with a record (made before records existed)
    if not isinstance(record, dict) or record.get("version") != frame_record.RECORD_VERSION:
        return None
    wanted = {k: getattr(settings, k) for k in RECORD_SETTINGS}
    if record.get("settings") != wanted or record.get("bytes") != size:
        return None
    if source.exists() and frame_record.source_changed(record, source):
        return None
    return record


def reencode_args(source: Path, target: Path, settings: ReencodeSettings) -> list[str]:
    """ffmpeg arguments (without the executable) that write ``target``; one list element per
    path, so no shell parses a name."""
    filters = []
    if settings.fps is not None and not source.is_dir():  # a folder has no timestamps
        filters.append(f"fps=fps={settings.fps}")
    if settings.short_side is not None:
        side = settings.short_side
        filters.append(
            f"scale=w={side}:h={side}:force_original_aspect_ratio=increase:force_divisible_by=2"
        )
    if source.is_dir():  # a frame folder (Jester): every image, in order, becomes a frame
        pattern, start, _ = ffmpeg_jobs.image_sequence(source)
        url = input_url(source).replace("%", "%%") + "/" + pattern
        args = ["-threads", "1", "-f", "image2", "-framerate", str(FOLDER_FPS),
                "-start_number", str(start), "-i", url]  # fmt: skip
    else:
        args = ["-threads", "1", "-i", input_url(source)]
    args += ["-map", "0:v:0", "-an", "-sn", "-dn"]
    if filters:
        args += ["-vf", ",".join(filters)]
    args += [
        "-c:v", "libx264", "-preset", settings.preset, "-crf", str(settings.crf),
        "-g", str(settings.gop), "-keyint_min", str(settings.gop), "-sc_threshold", "0",
        "-bf", "0", "-pix_fmt", "yuv420p", "-threads", "1", "-movflags", "+faststart",
    ]  # fmt: skip
    if settings.fps is None or source.is_dir():
        args += list(ffmpeg_jobs.passthrough_args(ffmpeg_exe()))
    return [*args, "-f", "mp4", input_url(target)]


def reencode_one(
    video_id: str, video_path: str | os.PathLike, videos_root: str | os.PathLike,
    settings: ReencodeSettings,
) -> ffmpeg_jobs.VideoOutcome:  # fmt: skip
    """Re-encode one video (or reuse its complete file); never raises for bad input."""
    source = Path(video_path)
    dest = video_file(videos_root, video_id)
    outcome = ffmpeg_jobs.VideoOutcome(
        video_id=video_id, video_path=str(video_path), frames_dir=str(dest)
    )
    kept = reusable(dest, source, settings)
    if kept is not None and kept.get("num_frames", 0) > 0:
        outcome.num_frames, outcome.reused = int(kept["num_frames"]), True
        return outcome
    if not source.exists():
        outcome.reason = "video file not found"
        return outcome
    if source.is_file() and source.stat().st_size == 0:
        outcome.reason = "empty file (0 bytes)"
        return outcome
    partial = Path(videos_root) / ffmpeg_jobs.PARTIAL_DIRNAME / dest.name
    partial.parent.mkdir(parents=True, exist_ok=True)
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    try:
        try:
            command = [*command[:6], *reencode_args(source, partial, settings)]
        except DataError as err:  # a frame folder that is not one numbered sequence
            outcome.reason = str(err)
            return outcome
        try:
            proc = subprocess.run(
                command, capture_output=True, timeout=settings.timeout_s, check=False,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            outcome.reason = f"ffmpeg timed out after {settings.timeout_s} s"
            return outcome
        stderr = proc.stderr.decode("utf-8", errors="replace").replace(
            str(source.absolute()), "<input>"
        )
        last = last_meaningful_line(stderr)
        if "partial file" in stderr or "ended prematurely" in stderr:
            outcome.reason = "truncated file: " + last
            return outcome
        if proc.returncode != 0:
            outcome.reason = (
                (video_stream_problem(source) if source.is_file() else None)
                or last
                or f"ffmpeg exited with status {proc.returncode}"
            )
            return outcome
        try:
            frames = probe_video(partial).num_frames
        except DataError as err:
            outcome.reason = f"re-encoded file unreadable ({err})"
            return outcome
        if frames == 0:
            outcome.reason = "ffmpeg produced no frames" + (f" ({last})" if last else "")
            return outcome
        os.replace(partial, dest)
        record = make_video_record(dest, source, settings, frames)
        record_path(dest).write_text(json.dumps(record, separators=(",", ":")) + "\n")
        outcome.num_frames, outcome.warning = frames, last
        return outcome
    finally:
        partial.unlink(missing_ok=True)


def reencode_videos(
    index: pd.DataFrame,
    videos_root: str | os.PathLike,
    settings: ReencodeSettings | None = None,
    workers: int | None = None,
    shard: int = 0,
    num_shards: int = 1,
    progress: bool = True,
) -> ffmpeg_jobs.ExtractionResult:
    """Re-encode this shard's videos of ``index`` (columns video_id, video_path) in parallel."""
    settings = settings or ReencodeSettings()
    ffmpeg_jobs.check_index(index)
    selected = ffmpeg_jobs.select_shard(index, shard, num_shards)
    videos_root = Path(videos_root)
    videos_root.mkdir(parents=True, exist_ok=True)
    jobs = list(
        zip(selected["video_id"].astype(str), selected["video_path"].astype(str), strict=True)
    )
    ordered = ffmpeg_jobs.run_video_jobs(
        jobs,
        lambda vid, path: reencode_one(vid, path, videos_root, settings),
        workers=workers or ffmpeg_jobs.default_workers(),
        desc=f"re-encode shard {shard}/{num_shards}",
        progress=progress,
        partial_dir=videos_root / ffmpeg_jobs.PARTIAL_DIRNAME,
    )
    done = [o for o in ordered if not o.reason]
    failed = [o for o in ordered if o.reason]
    log.info(
        "shard %d/%d: %d videos: %d re-encoded, %d already done, %d failed",
        shard, num_shards, len(jobs), sum(not o.reused for o in done),
        sum(o.reused for o in done), len(failed),
    )  # fmt: skip
    if failed:
        log.warning("%d video(s) failed to re-encode; see the failures table", len(failed))
    return ffmpeg_jobs.outcome_tables(ordered)
