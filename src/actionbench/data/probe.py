"""Probe a video (size, duration, frame count, validity) with ffmpeg alone.

Why: there is no ffprobe on the machines we target (the imageio-ffmpeg wheel ships ffmpeg only).
Stream-copying the first video stream into the null muxer reads every packet without decoding,
so it is fast, counts frames exactly for every codec we meet, and fails on unreadable files.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from actionbench.data.ffmpeg_bin import ffmpeg_exe
from actionbench.errors import DataError

_STREAM_RE = re.compile(r"Stream #0:\d+.*?: Video: (?P<codec>[\w-]+).*?, (?P<w>\d+)x(?P<h>\d+)")
_FPS_RE = re.compile(r"(?P<fps>[\d.]+) fps")
_DURATION_RE = re.compile(r"Duration: (?P<h>\d+):(?P<m>\d+):(?P<s>[\d.]+)")
# Generic lines that only restate that something failed; used when nothing more precise exists.
_GENERIC = re.compile(
    r"^(Conversion failed!?|Exiting normally.*|Error opening (input|output)\b.*"
    r"|Error binding filtergraph inputs/outputs.*|Error while (filtering|decoding).*)$"
)
_CONTEXT_PREFIX = re.compile(r"^(\[[^\]]*@ 0x[0-9a-f]+\]\s*)+")


@dataclass(frozen=True)
class VideoProbe:
    """What ffmpeg reports about the first video stream of a file."""

    width: int
    height: int
    num_frames: int
    duration_s: float | None
    fps: float | None
    codec: str


def input_url(path: str | os.PathLike) -> str:
    """An ffmpeg input URL for a local path that no character in the name can subvert.

    ``file:`` stops ffmpeg from reading ``a:b.mp4`` as protocol ``a``; an absolute path keeps
    names that start with ``-`` from looking like options.
    """
    return "file:" + str(Path(path).absolute())


def last_meaningful_line(stderr: str) -> str:
    """The line of ffmpeg's stderr that best explains a failure, for one-line failure reports.

    The last line that says something specific wins; generic ones ("Error opening input files:
    Invalid data ...", "Conversion failed!") are the fallback. The ``[ctx @ 0x..]`` prefix is
    dropped so the same problem reads the same on every run.
    """
    fallback = ""
    for raw in reversed(stderr.splitlines()):
        line = _CONTEXT_PREFIX.sub("", raw.strip()).strip()
        if not line or line.startswith(("frame=", "size=")):
            continue
        if not _GENERIC.match(line):
            return line
        fallback = fallback or line
    return fallback


def probe_video(path: str | os.PathLike, timeout_s: float | None = 120) -> VideoProbe:
    """Size, frame count and duration of the first video stream; DataError when unreadable."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: video file not found")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file (0 bytes)")
    args = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats",
        "-i", input_url(path),
        "-map", "0:v:0", "-c", "copy", "-f", "null",
        "-progress", "pipe:1", "-",
    ]  # fmt: skip
    try:
        proc = subprocess.run(
            args, capture_output=True, timeout=timeout_s, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as err:
        raise DataError(f"{path}: ffmpeg probe timed out after {timeout_s} s") from err
    stderr = proc.stderr.decode("utf-8", errors="replace")
    if proc.returncode != 0:
        raise DataError(f"{path}: not a readable video ({last_meaningful_line(stderr)})")
    stream = _STREAM_RE.search(stderr)
    if stream is None:
        raise DataError(f"{path}: ffmpeg found no video stream")
    frames = [
        int(line.split("=", 1)[1])
        for line in proc.stdout.decode("utf-8", errors="replace").splitlines()
        if line.startswith("frame=")
    ]
    duration = _DURATION_RE.search(stderr)
    stream_line = stderr[stream.start() :].splitlines()[0]
    fps = _FPS_RE.search(stream_line)
    return VideoProbe(
        width=int(stream["w"]),
        height=int(stream["h"]),
        num_frames=frames[-1] if frames else 0,
        duration_s=(
            int(duration["h"]) * 3600 + int(duration["m"]) * 60 + float(duration["s"])
            if duration
            else None
        ),
        fps=float(fps["fps"]) if fps else None,
        codec=stream["codec"],
    )
