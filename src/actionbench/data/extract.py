"""Decode videos into JPEG frame folders: ``<frames_root>/<video_id>/img_00001.jpg ...``.

Why frames on disk: training reads a few frames per clip many times per epoch; decoding whole
videos each time would dominate the cost. Design points:

* **Parallel over videos.** Each ffmpeg runs single-threaded (decoder, filters, encoder), and a
  thread pool (:mod:`.ffmpeg_jobs`, shared with re-encoding) keeps ``workers`` of them running,
  so N cores decode N videos at once. That scales
  better on short clips than one multi-threaded ffmpeg at a time, whose threads idle during
  container setup and teardown.
* **Shards.** ``shard=i, num_shards=n`` picks the videos whose CRC32(video_id) mod n is i: the
  same subset on every machine and run, so one Snakemake/SLURM job per shard spreads the work.
* **Idempotent and resumable, never stale.** Every finished folder carries ``frames.json``
  (:mod:`.frame_record`: the settings, ffmpeg version, source size/mtime, frame count and byte
  sizes). A folder is reused only when its record matches the requested settings, the source
  video and, by ``stat``, the frames on disk; otherwise it is re-extracted and the reason
  ("settings changed: short_side 48 -> 32", "img_00010.jpg missing") lands in the ``warning``
  column and the log. Work goes to ``<frames_root>/.partial/<video_id>`` and is renamed into
  place when complete, so an interrupted run leaves no half-written frame folder, and the
  leftover partial one is redone.
* **Verify without extracting.** :func:`verify_frames` checks a whole index against the frame
  folders by ``stat`` (fast) or by decoding every JPEG (``deep``).
* **Failures are rows, not crashes.** A file that is not a video (text, an image, empty) is
  named as such from its first bytes before ffmpeg runs; a file ffmpeg opens but that has no
  video stream (audio only) fails as "no video stream (audio only)". A missing, corrupt or truncated file gets
  one row (video_id, video_path, reason = ffmpeg's last meaningful stderr line) and the rest goes
  on. Zero frames produced is a failure. A truncated file that still decodes partly (the demuxer
  reports "partial file" / "ended prematurely") is a failure too: its frames would silently cut
  the action short. Other decoder complaints on a video that decodes are kept as ``warning``.
* **Frame folders as input** (Jester): a ``video_path`` that is a folder of consecutively
  numbered images is read with ffmpeg's image2 demuxer and only renumbered/resized; every image
  is kept (``fps`` does not apply: a folder has no timestamps).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from actionbench.data import frame_record
from actionbench.data.ffmpeg_bin import ffmpeg_exe
from actionbench.data.ffmpeg_jobs import (
    PARTIAL_DIRNAME,
    ExtractionResult,
    VideoOutcome,
    check_index,
    default_workers,
    image_sequence,
    outcome_tables,
    passthrough_args,
    run_video_jobs,
    select_shard,
)
from actionbench.data.probe import (
    container_name,
    input_url,
    is_generic,
    last_meaningful_line,
    sniff_non_video,
    video_stream_problem,
)
from actionbench.defaults import DATASET
from actionbench.errors import ConfigError, DataError

log = logging.getLogger(__name__)

FRAME_PATTERN = "img_%05d.jpg"
VERIFY_COLUMNS = ["video_id", "frames_dir", "problem"]
REEXTRACTED = "re-extracted: "
EXTRACT = DATASET["extract"]  # a dataset's extraction defaults (params.yaml extract:)
# Demuxer messages that mean the file ends before its own index says it should.
_TRUNCATION = re.compile(r"partial file|ended prematurely", re.IGNORECASE)


@dataclass(frozen=True)
class ExtractionSettings:
    """How frames are written; the same for every video of a dataset."""

    short_side: int | None = EXTRACT["short_side"]
    quality: int = EXTRACT["quality"]
    fps: float | None = None
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if self.short_side is not None and self.short_side < 8:
            raise ConfigError(f"short_side={self.short_side}; expected >= 8 pixels (or None)")
        if not 1 <= self.quality <= 31:
            raise ConfigError(
                f"quality={self.quality}; expected ffmpeg -q:v in 1..31 (lower is better)"
            )
        if self.fps is not None and self.fps <= 0:
            raise ConfigError(f"fps={self.fps}; expected > 0 (or None to keep every frame)")

    def as_record(self) -> dict[str, int | float | None]:
        """The settings a frame folder's record keeps (those that change the frames)."""
        return {"short_side": self.short_side, "quality": self.quality, "fps": self.fps}


def count_frames(frames_dir: str | os.PathLike) -> int:
    """Number of ``img_NNNNN.jpg`` files in a frame folder (0 when it does not exist)."""
    try:
        with os.scandir(frames_dir) as entries:
            return sum(1 for e in entries if frame_record.FRAME_FILE.match(e.name))
    except FileNotFoundError:
        return 0


def ffmpeg_args(source: Path, out_dir: Path, settings: ExtractionSettings) -> list[str]:
    """The ffmpeg argument list (without the executable) that writes ``out_dir/img_%05d.jpg``.

    Built with ffmpeg-python; every path is one list element, so no shell ever parses a name.
    """
    import ffmpeg

    frame_folder = source.is_dir()
    if frame_folder:
        # A frame folder has no timestamps: every image is kept, whatever ``fps`` says.
        pattern, start, _ = image_sequence(source)
        stream = ffmpeg.input(
            input_url(source).replace("%", "%%") + "/" + pattern,
            f="image2",
            start_number=start,
            threads=1,
        )
    else:
        stream = ffmpeg.input(input_url(source), threads=1)
    video = stream["v:0"]
    if settings.fps is not None and not frame_folder:
        video = video.filter("fps", fps=settings.fps)
    if settings.short_side is not None:
        # Both sides >= short_side with the aspect ratio kept = shorter side == short_side.
        video = video.filter(
            "scale",
            w=settings.short_side,
            h=settings.short_side,
            force_original_aspect_ratio="increase",
        )
    target = input_url(out_dir).replace("%", "%%") + "/" + FRAME_PATTERN
    output = video.output(target, **{"q:v": settings.quality, "threads": 1, "start_number": 1})
    args = output.get_args()
    if settings.fps is None or frame_folder:
        args = [*args[:-1], *passthrough_args(ffmpeg_exe()), args[-1]]
    return args


def _run_ffmpeg(args: list[str], timeout_s: float | None) -> tuple[int, str]:
    exe = ffmpeg_exe()
    command = [
        exe,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-filter_complex_threads",
        "1",
        *args,
    ]
    try:
        proc = subprocess.run(
            command, capture_output=True, timeout=timeout_s, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return -1, f"ffmpeg timed out after {timeout_s} s"
    return proc.returncode, proc.stderr.decode("utf-8", errors="replace")


def extract_one(
    video_id: str,
    video_path: str | os.PathLike,
    frames_root: str | os.PathLike,
    settings: ExtractionSettings,
) -> VideoOutcome:
    """Extract one video (or reuse its complete frame folder); never raises for bad input."""
    frames_root = Path(frames_root)
    source = Path(video_path)
    dest = frames_root / video_id
    outcome = VideoOutcome(video_id=video_id, video_path=str(video_path), frames_dir=str(dest))
    redo = ""
    if dest.is_dir():
        redo, note = reuse_verdict(dest, source, settings)
        if not redo:
            outcome.num_frames, outcome.reused, outcome.warning = count_frames(dest), True, note
            return outcome
        log.info("%s: %s%s", video_id, REEXTRACTED, redo)
    if not source.exists():
        outcome.reason = "video file not found"
        return outcome
    if source.is_file():
        what = sniff_non_video(source)
        if what is not None:
            outcome.reason = what
            return outcome
    partial = frames_root / PARTIAL_DIRNAME / video_id
    if partial.exists():  # left over from an interrupted run: start again
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    try:
        try:
            args = ffmpeg_args(source, partial, settings)
        except DataError as err:
            outcome.reason = str(err)
            return outcome
        code, stderr = _run_ffmpeg(args, settings.timeout_s)
        produced = count_frames(partial)
        last = last_meaningful_line(stderr)
        # The file name is in some messages; it must not be mistaken for a diagnosis.
        truncated = _TRUNCATION.search(stderr.replace(str(source.absolute()), "<input>"))
        no_video = (
            video_stream_problem(source)
            if (code != 0 or produced == 0) and source.is_file() and not truncated
            else None
        )
        if no_video:
            outcome.reason = no_video
        elif truncated:
            line = next(
                ln
                for ln in stderr.replace(str(source.absolute()), "<input>").splitlines()
                if _TRUNCATION.search(ln)
            )
            outcome.reason = "truncated file: " + last_meaningful_line(line)
        elif code != 0:
            outcome.reason = last or f"ffmpeg exited with status {code}"
            container = container_name(source) if source.is_file() else None
            if container and produced == 0 and is_generic(outcome.reason):
                outcome.reason = (
                    f"cannot open the {container} container (truncated or corrupt file): "
                    f"{outcome.reason}"
                )
        elif produced == 0:
            outcome.reason = "ffmpeg produced no frames" + (f" ({last})" if last else "")
        if outcome.reason:
            return outcome
        frame_record.write_record(
            partial,
            frame_record.make_record(
                partial,
                settings.as_record(),
                frame_record.ffmpeg_version(ffmpeg_exe()),
                frame_record.source_stamp(source),
            ),
        )
        if dest.exists():  # an empty or foreign folder without frames; ours replaces it
            shutil.rmtree(dest)
        try:
            os.rename(partial, dest)
        except OSError:
            if count_frames(dest) == 0:  # not a concurrent run that finished first
                raise
        outcome.num_frames = count_frames(dest)
        outcome.warning = "; ".join(w for w in (REEXTRACTED + redo if redo else "", last) if w)
        return outcome
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)


def reuse_verdict(dest: Path, source: Path, settings: ExtractionSettings) -> tuple[str, str]:
    """(why the folder must be redone or "", a note for a reused folder or "").

    Redone: no record, a setting that changes the frames (short_side, quality, fps), a changed
    source video, or frames that no longer match the record (missing, empty, resized, extra).
    A different ffmpeg version alone is only noted: re-decoding a terabyte for a patch release
    would be worse than the (sub-JPEG-noise) difference it makes.
    """
    record = frame_record.read_record(dest)
    if record is None:
        return f"no readable {frame_record.RECORD_NAME} record (older or damaged folder)", ""
    changes = frame_record.settings_changes(record, settings.as_record())
    if changes:
        return "settings changed: " + ", ".join(changes), ""
    changed = frame_record.source_changed(record, source)
    if changed:
        return changed, ""
    problems = frame_record.stat_problems(dest, record)
    if problems:
        return "frames no longer match their record: " + "; ".join(problems), ""
    now = frame_record.ffmpeg_version(ffmpeg_exe())
    if record.get("ffmpeg") != now:
        return "", f"frames made by ffmpeg {record.get('ffmpeg')} (now {now}); settings unchanged"
    return "", ""


def verify_frames(
    index: pd.DataFrame,
    frames_root: str | os.PathLike,
    settings: ExtractionSettings | None = None,
    deep: bool = False,
    workers: int | None = None,
    shard: int = 0,
    num_shards: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Problems of this shard's frame folders (video_id, frames_dir, problem); empty = all good.

    Checks what extraction would reuse: the record exists, its settings equal ``settings`` (when
    given), and every frame has its recorded byte size (``stat``). ``deep`` also decodes every
    JPEG and checks its size against the record. Videos never extracted are problems too
    ("frame folder not found"): the failures table of ``extract`` says why.
    """
    from actionbench.progress import Progress

    selected = select_shard(index, shard, num_shards)
    root = Path(frames_root)

    def check(video_id: str) -> list[str]:
        folder = root / video_id
        record = frame_record.read_record(folder)
        problems = frame_record.stat_problems(folder, record)
        if record is not None and settings is not None:
            changes = frame_record.settings_changes(record, settings.as_record())
            problems += [f"settings changed: {', '.join(changes)}"] if changes else []
        if deep and record is not None and not problems:
            problems += frame_record.decode_problems(folder, record)
        return problems

    ids = selected["video_id"].astype(str).tolist()
    rows = []
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        bar = Progress(
            len(ids), "verify deep" if deep else "verify", enabled=progress, unit="video"
        )
        for video_id, problems in zip(ids, pool.map(check, ids), strict=True):
            rows += [[video_id, str(root / video_id), p] for p in problems]
            bar.update()
        bar.close()
    return pd.DataFrame(rows, columns=VERIFY_COLUMNS)


def extract_videos(
    index: pd.DataFrame,
    frames_root: str | os.PathLike,
    short_side: int | None = EXTRACT["short_side"],
    quality: int = EXTRACT["quality"],
    fps: float | None = None,
    workers: int | None = None,
    shard: int = 0,
    num_shards: int = 1,
    timeout_s: float | None = None,
    progress: bool = True,
) -> ExtractionResult:
    """Extract this shard's videos of ``index`` (columns video_id, video_path) in parallel."""
    settings = ExtractionSettings(
        short_side=short_side, quality=quality, fps=fps, timeout_s=timeout_s
    )
    check_index(index)
    selected = select_shard(index, shard, num_shards)
    frames_root = Path(frames_root)
    frames_root.mkdir(parents=True, exist_ok=True)
    workers = workers or default_workers()
    jobs = list(
        zip(selected["video_id"].astype(str), selected["video_path"].astype(str), strict=True)
    )
    ordered = run_video_jobs(
        jobs,
        lambda vid, path: extract_one(vid, path, frames_root, settings),
        workers=workers,
        desc=f"extract shard {shard}/{num_shards}",
        progress=progress,
        partial_dir=frames_root / PARTIAL_DIRNAME,
    )
    result = outcome_tables(ordered)
    extracted = result.extracted
    done = [o for o in ordered if not o.reason]
    failed = [o for o in ordered if o.reason]
    reused = int(extracted["reused"].sum()) if len(extracted) else 0
    redone = sum(o.warning.startswith(REEXTRACTED) for o in done)
    log.info(
        "shard %d/%d: %d videos: %d extracted (%d of them re-extracted), %d already done, "
        "%d failed",
        shard, num_shards, len(jobs), len(done) - reused, redone, reused, len(failed),
    )  # fmt: skip
    if redone:
        first = next(o for o in done if o.warning.startswith(REEXTRACTED))
        log.warning(
            "%d existing frame folder(s) were re-extracted (e.g. %s: %s); see the warning column",
            redone, first.video_id, first.warning.split("; ")[0][len(REEXTRACTED):],
        )  # fmt: skip
    if failed:
        log.warning("%d video(s) failed extraction; see the failures table", len(failed))
    return result
