"""The record each extracted frame folder carries: which settings made it and what it holds.

Why: a frame folder outlives the settings that made it. Without a record, changing
``extract.short_side`` (or ``quality``, ``fps``) reuses the old frames silently, and a folder that
lost or truncated a frame is taken as done. ``frames.json`` (written into the folder before it is
renamed into place, so it is as atomic as the frames) holds:

* ``settings``: short_side, quality, fps; ``ffmpeg``: the version string of the binary used;
* ``source``: the video's path, byte size and mtime (a replaced video is re-extracted);
* ``num_frames``, ``width``, ``height`` and ``frame_bytes`` (byte size of every frame, in order).

:func:`stat_problems` compares a folder with its record using ``stat`` only (fast enough to run
over a whole dataset at every ``lists``); :func:`decode_problems` decodes every JPEG (the deep
check of ``actionbench extract --verify --deep``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

RECORD_NAME = "frames.json"
RECORD_VERSION = 1
SETTING_KEYS = ("short_side", "quality", "fps")
FRAME_NAME = "img_{:05d}.jpg"  # frame n (numbered from 1) of an extracted folder
FRAME_FILE = re.compile(r"^img_(\d{5,})\.jpg$")  # any such file, its number in group 1
_MAX_LISTED = 3  # problems named per folder; the count says how many more


@lru_cache(maxsize=4)
def ffmpeg_version(exe: str) -> str:
    """``7.0.2-static`` from ``ffmpeg -version``'s first line ("unknown" if it cannot run)."""
    try:
        out = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, timeout=30, check=False
        ).stdout.decode("utf-8", errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.match(r"ffmpeg version (\S+)", out)
    return match.group(1) if match else "unknown"


def source_stamp(source: str | os.PathLike) -> dict[str, Any]:
    """Path, byte size and mtime of the source video (a folder's size is None)."""
    path = Path(source)
    st = path.stat()
    return {
        "path": str(source),
        "bytes": None if path.is_dir() else st.st_size,
        "mtime_ns": st.st_mtime_ns,
    }


def frame_files(folder: str | os.PathLike) -> dict[int, os.DirEntry]:
    """Frame number -> directory entry of every ``img_NNNNN.jpg`` in ``folder``."""
    found: dict[int, os.DirEntry] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            match = FRAME_FILE.match(entry.name)
            if match:
                found[int(match.group(1))] = entry
    return found


def make_record(
    folder: str | os.PathLike,
    settings: Mapping[str, Any],
    ffmpeg: str,
    source: Mapping[str, Any],
) -> dict[str, Any]:
    """The record of a freshly written frame folder (frames numbered 1..N)."""
    from PIL import Image

    frames = frame_files(folder)
    numbers = sorted(frames)
    with Image.open(frames[numbers[0]].path) as first:
        width, height = first.size
    return {
        "version": RECORD_VERSION,
        "settings": {k: settings.get(k) for k in SETTING_KEYS},
        "ffmpeg": ffmpeg,
        "source": dict(source),
        "num_frames": len(numbers),
        "width": width,
        "height": height,
        "frame_bytes": [frames[n].stat().st_size for n in numbers],
    }


def write_record(folder: str | os.PathLike, record: Mapping[str, Any]) -> None:
    (Path(folder) / RECORD_NAME).write_text(json.dumps(record, separators=(",", ":")) + "\n")


def read_record(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The folder's record, or None when it has none or it is unreadable (both mean: redo)."""
    try:
        record = json.loads((Path(folder) / RECORD_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("version") != RECORD_VERSION:
        return None
    return record


def content_digest(record: Mapping[str, Any]) -> str:
    """A short digest of what a folder holds, from its record alone (no JPEG is read): settings,
    ffmpeg version, source size, frame count, size and every frame's byte size. The source's
    path and mtime are left out: a copied or moved dataset holds the same frames."""
    kept = {k: v for k, v in record.items() if k != "source"}
    kept["source_bytes"] = (record.get("source") or {}).get("bytes")
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def settings_changes(record: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """``["short_side 48 -> 32"]``: the settings that differ from those that made the folder."""
    made = record.get("settings", {})
    return [
        f"{key} {made.get(key)} -> {settings.get(key)}"
        for key in SETTING_KEYS
        if made.get(key) != settings.get(key)
    ]


def source_changed(record: Mapping[str, Any], source: str | os.PathLike) -> str | None:
    """Why the source video is no longer the one the frames came from, or None.

    Compared by byte size only: a re-downloaded or re-encoded video practically never keeps its
    size, while mtimes change whenever a dataset is copied or checked out (``cp``, ``dvc pull``)
    and would re-extract every video for nothing. The mtime is kept in the record for people.
    """
    try:
        now = source_stamp(source)
    except OSError:
        return None  # gone: the frames are all that is left; keep them
    then = record.get("source", {}).get("bytes")
    if then != now["bytes"]:
        return f"source video changed since extraction ({then} -> {now['bytes']} bytes)"
    return None


def stat_problems(folder: str | os.PathLike, record: Mapping[str, Any] | None) -> list[str]:
    """What differs between a folder and its record, by ``stat`` only (empty list = intact)."""
    folder = Path(folder)
    if not folder.is_dir():
        return ["frame folder not found"]
    if record is None:
        return [f"no readable {RECORD_NAME} record in the frame folder"]
    frames = frame_files(folder)
    expected = record["frame_bytes"]
    problems: list[str] = []
    for number, size in enumerate(expected, start=1):
        entry = frames.get(number)
        name = FRAME_NAME.format(number)
        if entry is None:
            problems.append(f"{name} missing")
            continue
        actual = entry.stat().st_size
        if actual == 0:
            problems.append(f"{name} is empty (0 bytes)")
        elif actual != size:
            problems.append(f"{name} has {actual} bytes, recorded {size}")
    extra = sorted(n for n in frames if not 1 <= n <= len(expected))
    problems += [
        f"{FRAME_NAME.format(n)} is extra (recorded {len(expected)} frames)" for n in extra
    ]
    return _summarised(problems, f"{len(frames)} frames on disk, {len(expected)} recorded")


def decode_problems(folder: str | os.PathLike, record: Mapping[str, Any]) -> list[str]:
    """Decode every frame (as the training loader does): unreadable or wrong-size JPEGs."""
    import torch
    from torchvision.io import ImageReadMode, decode_jpeg

    problems: list[str] = []
    size = (record["height"], record["width"])
    for number in range(1, record["num_frames"] + 1):
        path = Path(folder) / FRAME_NAME.format(number)
        try:
            data = path.read_bytes()
            image = decode_jpeg(
                torch.frombuffer(bytearray(data), dtype=torch.uint8), mode=ImageReadMode.RGB
            )
        except (OSError, RuntimeError, ValueError) as err:
            problems.append(f"{path.name} does not decode ({_first_line(err)})")
            continue
        if tuple(image.shape[1:]) != size:
            problems.append(
                f"{path.name} is {image.shape[2]}x{image.shape[1]}, recorded "
                f"{record['width']}x{record['height']}"
            )
    return _summarised(problems, f"{record['num_frames']} frames decoded")


def _summarised(problems: list[str], context: str) -> list[str]:
    if len(problems) <= _MAX_LISTED:
        return problems
    return [*problems[:_MAX_LISTED], f"... {len(problems) - _MAX_LISTED} more ({context})"]


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
