"""Probe a video (size, duration, frame count, validity) with ffmpeg alone.

Why: there is no ffprobe on the machines we target (the imageio-ffmpeg wheel ships ffmpeg only).
Stream-copying the first video stream into the null muxer reads every packet without decoding,
so it is fast, counts frames exactly for every codec we meet, and fails on unreadable files.
A file ffmpeg opens but that holds no video stream (audio only) is named as such
(:func:`missing_video_stream`), by the probe and by extraction and re-encode alike.

:func:`sniff_non_video` looks at a file's first bytes before ffmpeg does: a text file, an image
or an empty file named ``*.mp4`` would otherwise be reported with the demuxer's internal message
("moov atom not found"), which sends the user looking for a broken download instead of a
wrong file.
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
# One stream of ffmpeg's description of its input: "  Stream #0:0[0x1](und): Audio: aac ...".
_INPUT_STREAM_RE = re.compile(r"^\s*Stream #0:\d+\S*: (?P<kind>[A-Za-z]+): (?P<rest>.*)$", re.M)
NO_VIDEO_STREAM = "no video stream"


# Leading bytes of containers ffmpeg reads as video: never called "not a video" by the sniffer.
_VIDEO_MAGIC = (
    (4, b"ftyp"),  # mp4, mov, m4v, 3gp
    (4, b"moov"), (4, b"mdat"), (4, b"wide"), (4, b"free"), (4, b"skip"),  # old QuickTime
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM (EBML)
    (0, b"RIFF"),  # AVI (checked further below), also WAV/WebP
    (0, b"FLV"), (0, b"OggS"), (0, b"\x00\x00\x01\xba"), (0, b"\x00\x00\x01\xb3"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"),  # ASF / WMV
    (0, b"G"),  # MPEG-TS sync byte (confirmed below)
)  # fmt: skip
_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
)
_SNIFF_BYTES = 4096


def sniff_non_video(path: str | os.PathLike) -> str | None:
    """What a file is when its first bytes say it is certainly not a video, else None.

    "empty file (0 bytes)", "not a video: a PNG image", "not a video: a text file (starts with
    'hello')". Unknown binary data returns None: ffmpeg decides (it knows more containers than
    any list here).
    """
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head:
        return "empty file (0 bytes)"
    for offset, magic in _VIDEO_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if magic == b"RIFF" and head[8:12] == b"WEBP":
                return "not a video: a WebP image"
            if magic == b"RIFF" and head[8:12] == b"WAVE":
                return "not a video: a WAV audio file"
            if magic == b"G" and not (len(head) > 188 and head[188:189] == b"G"):
                break  # a lone "G" is text, not a transport stream
            return None
    for magic, kind in _IMAGE_MAGIC:
        if head.startswith(magic):
            return f"not a video: {kind}"
    if b"\x00" not in head:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as err:
            # A multi-byte character cut at the end of the sniffed block is still text.
            text = head[: err.start].decode("utf-8") if err.start > len(head) - 4 else None
        if text is not None and sum(c.isprintable() or c.isspace() for c in text) >= 0.95 * len(
            text
        ):
            first = text.strip().splitlines()[0][:40] if text.strip() else ""
            return f"not a video: a text file (starts with {first!r})"
    return None


def container_name(path: str | os.PathLike) -> str | None:
    """The video container a file's first bytes announce ("MP4/QuickTime", "AVI", ...), or None.

    Used to say "cannot open the AVI container (truncated or corrupt file)" where ffmpeg only
    says "Invalid data found when processing input".
    """
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "MP4/QuickTime"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "Matroska/WebM"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "AVI"
    if head.startswith(b"FLV"):
        return "FLV"
    if head.startswith(b"OggS"):
        return "Ogg"
    if head.startswith(b"\x30\x26\xb2\x75"):
        return "ASF/WMV"
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return "MPEG-PS"
    return None


def missing_video_stream(stderr: str) -> str | None:
    """The reason "no video stream (audio only)" when ffmpeg's description of an input it opened lists no
    video stream (a cover image attached to an audio file is not one); None when it lists one,
    or when ffmpeg did not open the input at all (then the file is broken, not audio).

    Why: ffmpeg itself only says that its ``-map 0:v:0`` or filter "matches no streams", or
    "Error parsing options for output file ...img_%05d.jpg", which names the wrong culprit.
    """
    if "Input #0" not in stderr:
        return None
    kinds = []
    for stream in _INPUT_STREAM_RE.finditer(stderr):
        kind = stream["kind"].lower()
        if kind == "video":
            if "(attached pic)" not in stream["rest"]:
                return None
            kind = "cover image"
        kinds.append(kind)
    if not kinds:
        return f"{NO_VIDEO_STREAM} (the file has no streams)"
    return f"{NO_VIDEO_STREAM} ({' and '.join(dict.fromkeys(kinds))} only)"


def video_stream_problem(path: str | os.PathLike, timeout_s: float | None = 60) -> str | None:
    """:func:`missing_video_stream` of a file, asked of ffmpeg (``-i`` alone describes the input).

    Called after a failed extraction or re-encode only: one extra ffmpeg start for a bad file,
    none for a good one.
    """
    args = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", input_url(path)]
    try:
        proc = subprocess.run(
            args, capture_output=True, timeout=timeout_s, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return None
    return missing_video_stream(proc.stderr.decode("utf-8", errors="replace"))


def is_generic(line: str) -> bool:
    """True for ffmpeg lines that only say that something failed, not what."""
    return bool(_GENERIC.match(line)) or "Invalid data found when processing input" in line


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
    what = sniff_non_video(path)
    if what is not None:
        raise DataError(f"{path}: {what}")
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
    no_video = missing_video_stream(stderr)
    if no_video is not None:
        raise DataError(f"{path}: {no_video}")
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
