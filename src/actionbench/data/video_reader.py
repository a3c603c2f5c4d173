"""Decode chosen frames of a video file, for training straight from videos (``storage: video``).

Why: extracting every frame to JPEG costs tens of millions of files and about a terabyte for
Kinetics-400 (reports/benchmarks/video_storage.md). A clip needs 8-64 frames; a reader that seeks
to the keyframe before each wanted frame and decodes only from there pays a few frames per wanted
frame on a short-GOP file (``actionbench reencode`` writes one), never the whole video.

Frame ``i`` is the ``i``-th frame in presentation order, the same frame ``actionbench extract``
writes as ``img_{i+1:05d}.jpg`` (both keep every decoded frame), so a sampler's indices mean the
same thing in both storage modes.

Two maintained decoders (decord has been unmaintained since 2021):

* ``torchcodec`` (PyTorch's decoder) links the system's FFmpeg shared libraries (4-8), so it works
  only where they are installed (Debian: ``apt-get install libavcodec59 libavformat59
  libavdevice59 libavfilter8 libswscale6 libswresample4``).
* ``pyav`` ships FFmpeg inside its wheels and works everywhere ``pip`` does.

``decoder="auto"`` takes, of those that really decode a file on this machine, the one that
decodes a short-GOP training clip fastest here (measured once per process, well under a second).
Neither working is a :class:`~actionbench.errors.ConfigError` saying how to fix it.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import torch

from actionbench.errors import ConfigError, DataError

log = logging.getLogger(__name__)

BACKENDS = ("torchcodec", "pyav")
DECODER_CHOICES = ("auto", *BACKENDS)


class VideoReader:
    """Reads frames by index from video files; one instance per DataLoader worker.

    ``read(path, indices)`` returns uint8 (len(indices), 3, H, W) in the order of ``indices``
    (repeats allowed); each distinct frame is decoded once.
    """

    name = ""

    def read(self, path: str | os.PathLike, indices: np.ndarray) -> torch.Tensor:
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if len(indices) == 0:
            raise ValueError("no frame indices to read")
        if indices.min() < 0:
            raise DataError(f"{path}: negative frame index {int(indices.min())}")
        unique, inverse = np.unique(indices, return_inverse=True)
        frames = self._read_sorted(Path(path), unique)
        return frames[torch.from_numpy(inverse.reshape(-1))]

    def _read_sorted(self, path: Path, indices: np.ndarray) -> torch.Tensor:
        raise NotImplementedError


class TorchcodecReader(VideoReader):
    """torchcodec's VideoDecoder, exact seek mode, one FFmpeg thread (parallelism = workers)."""

    name = "torchcodec"

    def __init__(self) -> None:
        from torchcodec.decoders import VideoDecoder

        self._decoder_cls = VideoDecoder

    def _read_sorted(self, path: Path, indices: np.ndarray) -> torch.Tensor:
        try:
            decoder = self._decoder_cls(
                str(path), seek_mode="exact", num_ffmpeg_threads=1, dimension_order="NCHW"
            )
        except (RuntimeError, ValueError, OSError) as err:
            raise DataError(f"{path}: torchcodec cannot open the video ({err})") from None
        count = decoder.metadata.num_frames
        if count is not None and indices[-1] >= count:
            raise DataError(
                f"{path}: frame {int(indices[-1])} requested but the video has {count} frames"
            )
        try:
            return decoder.get_frames_at(indices.tolist()).data
        except (RuntimeError, IndexError, ValueError) as err:
            raise DataError(f"{path}: torchcodec failed to decode frames ({err})") from None


class PyAVReader(VideoReader):
    """PyAV: one demux pass per file (cached) finds every frame's pts and the keyframes; each
    wanted frame is then reached by a seek to its keyframe and a short decode forward."""

    name = "pyav"

    def __init__(self, cache_size: int = 1024) -> None:
        import av

        self._av = av
        self._index: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cache_size = cache_size

    def _frame_index(self, container, stream, path: Path) -> tuple[np.ndarray, np.ndarray]:
        """(pts of every frame in presentation order, pts of every keyframe), cached per file."""
        key = str(path)
        if key in self._index:
            self._index.move_to_end(key)
            return self._index[key]
        pts, keys = [], []
        for packet in container.demux(stream):
            if packet.pts is None:
                if packet.size == 0:  # the flush packet at the end
                    continue
                raise DataError(f"{path}: packets without timestamps; re-encode it to mp4")
            pts.append(packet.pts)
            if packet.is_keyframe:
                keys.append(packet.pts)
        entry = (np.sort(np.asarray(pts, dtype=np.int64)), np.sort(np.asarray(keys, np.int64)))
        self._index[key] = entry
        if len(self._index) > self._cache_size:
            self._index.popitem(last=False)
        return entry

    def _read_sorted(self, path: Path, indices: np.ndarray) -> torch.Tensor:
        av = self._av
        try:
            container = av.open(str(path))
        except (av.error.FFmpegError, OSError) as err:
            raise DataError(f"{path}: PyAV cannot open the video ({err})") from None
        try:
            with container:
                stream = container.streams.video[0]
                stream.thread_type = "SLICE"
                stream.codec_context.thread_count = 1
                frame_pts, key_pts = self._frame_index(container, stream, path)
                if indices[-1] >= len(frame_pts):
                    raise DataError(
                        f"{path}: frame {int(indices[-1])} requested but the video has "
                        f"{len(frame_pts)} frames"
                    )
                return torch.stack(self._decode(container, stream, frame_pts[indices], key_pts))
        except av.error.FFmpegError as err:
            raise DataError(f"{path}: PyAV failed to decode frames ({err})") from None

    def _decode(self, container, stream, targets: np.ndarray, key_pts: np.ndarray) -> list:
        out: list[torch.Tensor] = []
        frames = None
        last_pts: int | None = None
        for target in targets.tolist():
            keyframe = key_pts[max(0, np.searchsorted(key_pts, target, side="right") - 1)]
            # Seek only when the target lies behind a keyframe we have not decoded up to yet.
            if frames is None or last_pts is None or keyframe > last_pts or target < last_pts:
                container.seek(int(keyframe), stream=stream, backward=True, any_frame=False)
                frames = container.decode(stream)
            for frame in frames:
                last_pts = frame.pts
                if frame.pts is not None and frame.pts >= target:
                    out.append(torch.from_numpy(frame.to_ndarray(format="rgb24")).permute(2, 0, 1))
                    break
            else:
                raise DataError(f"decoder ended before the frame at pts {target}")
        return out


_CONSTRUCTORS = {"torchcodec": TorchcodecReader, "pyav": PyAVReader}


def _unavailable_reason(name: str) -> str | None:
    """Why backend ``name`` cannot decode here, or None when it can (decodes a real file)."""
    try:
        reader = _CONSTRUCTORS[name]()
    except Exception as err:  # noqa: BLE001 - an import/library-loading failure of any kind
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}".strip()
    try:
        sample = _selftest_video()
        frames = reader.read(sample, SELFTEST_CLIP[:2])
        if tuple(frames.shape[:2]) != (2, 3):
            return f"decoded an unexpected shape {tuple(frames.shape)}"
    except Exception as err:  # noqa: BLE001
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}".strip()
    return None


SELFTEST_CLIP = np.array([2, 9, 15, 21, 28, 34, 40, 46])  # a uniform 8-frame clip of 48


@lru_cache(maxsize=1)
def _selftest_video() -> str:
    """A 48-frame 160x120 H.264 mp4 with a keyframe every 8 frames (what ``actionbench
    reencode`` writes), made once by the project's ffmpeg: the availability and speed test."""
    import subprocess
    import tempfile

    from actionbench.data.ffmpeg_bin import ffmpeg_exe

    path = Path(tempfile.gettempdir()) / "actionbench-decoder-selftest-v1.mp4"
    if not path.is_file():
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.mp4")
        subprocess.run(
            [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=24", "-frames:v", "48",
             "-c:v", "libx264", "-g", "8", "-bf", "0", "-pix_fmt", "yuv420p", str(partial)],
            check=True, capture_output=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        os.replace(partial, path)  # atomic: concurrent processes never read a half-written file
    return str(path)


@cache
def backend_status() -> dict[str, str | None]:
    """For each backend: None when it decodes on this machine, else the reason it does not."""
    return {name: _unavailable_reason(name) for name in BACKENDS}


@cache
def backend_speed() -> dict[str, float]:
    """Seconds each working backend takes to open the self-test file and decode one 8-frame
    clip (best of 5, one thread): what ``auto`` ranks by on this machine."""
    import time

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        timings = {}
        for name, reason in backend_status().items():
            if reason is not None:
                continue
            reader, best = _CONSTRUCTORS[name](), float("inf")
            for _ in range(5):
                start = time.perf_counter()
                reader.read(_selftest_video(), SELFTEST_CLIP)
                best = min(best, time.perf_counter() - start)
                if isinstance(reader, PyAVReader):
                    reader._index.clear()  # a fresh file each time, as in training
            timings[name] = best
    finally:
        torch.set_num_threads(threads)
    return timings


def resolve_backend(decoder: str = "auto") -> str:
    """The backend ``decoder`` means on this machine; ConfigError when it cannot work here.

    ``auto``: the faster of the working backends on the self-test clip (:func:`backend_speed`),
    measured once per process. Both return the same pixels (tests/data/test_video_storage.py),
    so the choice changes speed only, never results.
    """
    if decoder not in DECODER_CHOICES:
        raise ConfigError(f"video decoder {decoder!r}; expected one of {list(DECODER_CHOICES)}")
    status = backend_status()
    candidates = BACKENDS if decoder == "auto" else (decoder,)
    working = [name for name in candidates if status[name] is None]
    if len(working) == 1:
        return working[0]
    if working:
        speed = backend_speed()
        chosen = min(working, key=lambda name: speed[name])
        log.info(
            "video decoder auto: %s (self-test clip: %s)", chosen,
            ", ".join(f"{n} {speed[n] * 1000:.1f} ms" for n in working),
        )  # fmt: skip
        return chosen
    reasons = "; ".join(f"{n}: {status[n]}" for n in candidates)
    raise ConfigError(
        f"no working video decoder for storage: video (decoder={decoder!r}; {reasons}). "
        "Fix: `pip install av` (self-contained PyAV wheels), or install the system FFmpeg "
        "libraries torchcodec links (Debian/Ubuntu: apt-get install libavcodec59 libavformat59 "
        "libavdevice59 libavfilter8 libswscale6 libswresample4), or use storage: frames."
    )


def make_reader(backend: str) -> VideoReader:
    """A reader of an already resolved backend name (no self-test; for DataLoader workers)."""
    if backend not in _CONSTRUCTORS:
        raise ConfigError(f"video decoder backend {backend!r}; expected one of {list(BACKENDS)}")
    return _CONSTRUCTORS[backend]()


def open_reader(decoder: str = "auto") -> VideoReader:
    """A reader of the backend ``decoder`` resolves to (see :func:`resolve_backend`)."""
    name = resolve_backend(decoder)
    log.debug("video decoder: %s", name)
    return make_reader(name)
