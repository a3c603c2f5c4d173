"""Fixtures for the data-layer tests: tiny real videos made with ffmpeg's lavfi test source."""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from actionbench.data.ffmpeg_bin import ffmpeg_exe


def make_video(
    path: Path,
    frames: int = 12,
    size: str = "64x48",
    rate: int = 12,
    faststart: bool = False,
    gop: int | None = None,
) -> Path:
    """An H.264 mp4 of ``frames`` testsrc frames (a moving pattern with a frame counter)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    args = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}",
        "-frames:v", str(frames), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-threads", "1",
    ]  # fmt: skip
    if faststart:
        args += ["-movflags", "+faststart"]
    if gop:
        args += ["-g", str(gop)]
    subprocess.run([*args, "file:" + str(path.absolute())], check=True, capture_output=True)
    return path


def make_audio(path: Path, seconds: float = 0.5) -> Path:
    """An audio-only file (silent AAC; the container follows the suffix: .mp4, .m4a)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", str(seconds), "-c:a", "aac",
         "file:" + str(path.absolute())],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return path


def make_frames(
    folder: Path, frames: int = 6, size: str = "40x30", name: str = "{:05d}.jpg"
) -> Path:
    """A folder of numbered JPEGs (Jester-style), via ffmpeg's image2 muxer."""
    folder.mkdir(parents=True, exist_ok=True)
    pattern = name.replace("{:05d}", "%05d")
    subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size={size}:rate=10",
            "-frames:v",
            str(frames),
            str(folder / pattern),
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    return folder


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory) -> Path:
    """One real 12-frame 64x48 mp4, copied wherever a fixture needs 'a video'."""
    return make_video(tmp_path_factory.mktemp("video") / "tiny.mp4")


@pytest.fixture
def place_video(tiny_video):
    """place_video(path) copies the tiny video to ``path`` (parents created), made distinct."""

    def place(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tiny_video, path)
        # A distinct file per path (the index rejects byte-identical copies across splits): an
        # MP4 "free" box, which every demuxer skips, holding a hash of the path.
        tag = hashlib.md5(str(path).encode()).digest()
        with open(path, "ab") as handle:
            handle.write(struct.pack(">I", 8 + len(tag)) + b"free" + tag)
        return path

    return place


@pytest.fixture
def video_maker():
    """The :func:`make_video` helper, as a fixture (tests need no import path tricks)."""
    return make_video


@pytest.fixture
def frames_maker():
    """The :func:`make_frames` helper, as a fixture."""
    return make_frames


@pytest.fixture
def audio_maker():
    """The :func:`make_audio` helper, as a fixture."""
    return make_audio
