"""Which frames form a clip: the paper's sampling rules (supplementary D), as pure functions.

All functions take the number of frames ``n`` of a video and return 0-based frame indices
(numpy int64). Randomness comes only from an explicit ``numpy.random.Generator``, so a caller
that seeds the generator gets the same clip every time.

**Uniform sampling** (TSN; 2D models). The video is cut into ``f`` equal segments, segment ``x``
being the real interval ``[x*n/f, (x+1)*n/f)``.

* training: one random point per segment, independently per segment; the frame is the one that
  point falls in: ``floor((x + u_x) * n / f)``, ``u_x ~ U[0, 1)``. Every frame of the video can
  be drawn. (The reference code draws one offset shared by all segments and ignores the last
  ``n mod f`` frames; the paper's text says "randomly selects one frame from each segment".)
* testing, one clip: the middle frame of each segment, ``floor((2x + 1) * n / (2f))``.
* testing, ``m`` clips: offsets ``i`` with ``-m/2 <= i < m/2`` (``i`` = -m//2 .. (m+1)//2 - 1;
  m = 10 gives -5..4) shift every middle frame by ``i``; the result is clamped to the frames
  that segment ``x`` overlaps, ``[floor(x*n/f), ceil((x+1)*n/f) - 1]``, so a clip never borrows
  frames from a neighbouring segment's interior. Clips whose offsets all clamp to the same
  frames (short segments) are duplicates; that is the honest outcome, not an error. (The
  reference code clamps the same way but uses ``-m/2 < i <= m/2``; we follow the paper.)

**Dense sampling** (I3D; 3D models). ``f`` consecutive frames at stride ``s``; the clip spans
``(f-1)*s + 1`` frames.

* training: a random start in ``[0, n - span]``.
* testing, one clip: the first clip, start 0 (the paper: "for dense sample the first clip is used").
* testing, ``m`` clips: ``m`` evenly spaced starts ``floor(j * (n - span) / (m - 1))``,
  j = 0..m-1, so the first clip starts at frame 0 and the last one ends at the last frame.

**Short videos.** A video shorter than the clip is looped, never padded with black: dense
indices wrap around (``index mod n``, start 0), as the reference code does; uniform sampling
with ``n < f`` naturally repeats frames in temporal order (several segments fall in one frame).
So every video yields a full clip and no video is dropped for being short.
"""

from __future__ import annotations

import numpy as np

from actionbench.spec import SAMPLINGS


def _check(n: int, f: int) -> None:
    if n < 1:
        raise ValueError(f"a video needs at least one frame, got num_frames={n}")
    if f < 1:
        raise ValueError(f"a clip needs at least one frame, got {f}")


def uniform_test_offsets(num_clips: int) -> list[int]:
    """The integer offsets ``i`` with ``-m/2 <= i < m/2`` for ``m = num_clips``."""
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    return list(range(-(num_clips // 2), (num_clips + 1) // 2))


def segment_bounds(num_frames: int, num_segments: int) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) frame each uniform segment overlaps, inclusive."""
    _check(num_frames, num_segments)
    x = np.arange(num_segments, dtype=np.int64)
    first = (num_frames * x) // num_segments
    last = -((-num_frames * (x + 1)) // num_segments) - 1  # ceil((x+1) n / f) - 1
    return first, last


def uniform_train_indices(
    num_frames: int, num_segments: int, rng: np.random.Generator
) -> np.ndarray:
    """One random frame per segment (training), shape (num_segments,)."""
    _check(num_frames, num_segments)
    u = rng.random(num_segments)
    points = (np.arange(num_segments) + u) * num_frames / num_segments
    return np.minimum(np.floor(points).astype(np.int64), num_frames - 1)


def uniform_test_indices(num_frames: int, num_segments: int, num_clips: int = 1) -> np.ndarray:
    """Middle frame of each segment, shifted per clip (testing), shape (num_clips, num_segments)."""
    _check(num_frames, num_segments)
    x = np.arange(num_segments, dtype=np.int64)
    middle = (num_frames * (2 * x + 1)) // (2 * num_segments)
    first, last = segment_bounds(num_frames, num_segments)
    clips = [np.clip(middle + i, first, last) for i in uniform_test_offsets(num_clips)]
    return np.stack(clips).astype(np.int64)


def dense_span(clip_len: int, stride: int) -> int:
    """Frames a dense clip covers from its first to its last index."""
    if stride < 1:
        raise ValueError(f"dense stride must be >= 1, got {stride}")
    return (clip_len - 1) * stride + 1


def _dense_clip(num_frames: int, start: int, clip_len: int, stride: int) -> np.ndarray:
    return (start + stride * np.arange(clip_len, dtype=np.int64)) % num_frames


def dense_train_indices(
    num_frames: int, clip_len: int, stride: int, rng: np.random.Generator
) -> np.ndarray:
    """``clip_len`` frames at ``stride`` from a random start (training), shape (clip_len,)."""
    _check(num_frames, clip_len)
    max_start = num_frames - dense_span(clip_len, stride)
    start = int(rng.integers(0, max_start + 1)) if max_start > 0 else 0
    return _dense_clip(num_frames, start, clip_len, stride)


def dense_test_indices(
    num_frames: int, clip_len: int, stride: int, num_clips: int = 1
) -> np.ndarray:
    """``num_clips`` evenly spaced clips, the first at frame 0 (testing), shape (num_clips, clip_len)."""
    _check(num_frames, clip_len)
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    max_start = max(0, num_frames - dense_span(clip_len, stride))
    # num_clips == 1: the first clip; otherwise floor(j * max_start / (m - 1)), j = 0..m-1
    last = max(1, num_clips - 1)
    starts = [(max_start * j) // last for j in range(num_clips)]
    return np.stack([_dense_clip(num_frames, s, clip_len, stride) for s in starts])


def sample_clips(
    num_frames: int,
    clip_len: int,
    sampling: str = "uniform",
    train: bool = True,
    stride: int = 1,
    num_clips: int = 1,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Frame indices for one video, shape (1, clip_len) in training, (num_clips, clip_len) in test.

    ``stride`` only applies to dense sampling; training always returns one clip.
    """
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling {sampling!r}; expected one of {list(SAMPLINGS)}")
    if train:
        if rng is None:
            raise ValueError("training samples randomly: pass rng (numpy.random.Generator)")
        if sampling == "uniform":
            return uniform_train_indices(num_frames, clip_len, rng)[None]
        return dense_train_indices(num_frames, clip_len, stride, rng)[None]
    if sampling == "uniform":
        return uniform_test_indices(num_frames, clip_len, num_clips)
    return dense_test_indices(num_frames, clip_len, stride, num_clips)
