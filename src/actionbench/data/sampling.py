"""Which frames form a clip: two sampling protocols, as pure functions.

All functions take the number of frames ``n`` of a video and return 0-based frame indices
(numpy int64). Randomness comes only from an explicit generator passed in, never from numpy's or
torch's global RNG, so a caller that seeds the generator gets the same clip every time.

Two protocols, chosen by the run's ``layout`` (docs/data.md, section 5):

``reference`` (default): exactly what IBM/action-recognition-pytorch, the code behind the
paper's published numbers, samples. ``paper``: the paper's text (supplementary D), as
actionbench did before the reference protocol existed.

**Uniform sampling** (TSN; 2D models), ``f`` segments.

* training, paper: one random point per real-valued segment ``[x*n/f, (x+1)*n/f)``,
  independently per segment: ``floor((x + u_x) * n / f)``, ``u_x ~ U[0, 1)``.
* training, reference: segments of ``L = floor(n/f)`` frames and ONE random offset ``o`` in
  ``[0, L)`` shared by all of them: ``x*L + o`` (the last ``n mod f`` frames are never used); with
  ``n < f``: ``f`` frames drawn with replacement, sorted.
* testing, paper: the middle frame ``floor((2x + 1) * n / (2f))`` shifted by ``i`` with
  ``-m/2 <= i < m/2`` (m = 10: -5..4; m = 2: {-1, 0}) and clamped to the frames segment ``x``
  overlaps. ``n < f`` repeats frames in temporal order.
* testing, reference: with ``n > f``, tick ``t = n/f`` and offsets ``i`` with ``-m/2 < i <= m/2``
  (m = 10: -4..5; m = 2: {0, 1}; in general ``-((m-1)//2) .. m//2``), each clamped to
  ``[-t/2, t/2)``: frame ``int(t/2 + i + t*x)``. With ``n <= f`` (equal included) clip ``k`` draws
  ``f`` frames with replacement from a legacy ``numpy.random.RandomState(k)`` and sorts them:
  the very indices the reference gets after ``np.random.seed(k)``, without touching the global RNG.

**Dense sampling** (I3D; 3D models), ``f`` frames at stride ``s``; indices wrap modulo ``n``
(a short video is looped, never padded).

* paper: training start in ``[0, n - span]`` with ``span = (f-1)*s + 1``; testing starts
  ``floor(j * (n - span) / (m - 1))`` (the first clip, start 0, for m = 1).
* reference: training start in ``[0, n - s*f - 1]`` (0 when ``n <= s*f``); testing starts
  ``int(linspace(0, max(0, n - s*f), m))``.
"""

from __future__ import annotations

import numpy as np

from actionbench.spec import LAYOUTS, SAMPLINGS

PROTOCOLS = LAYOUTS  # the data protocol follows the run's layout (reference | paper)


def _check(n: int, f: int) -> None:
    if n < 1:
        raise ValueError(f"a video needs at least one frame, got num_frames={n}")
    if f < 1:
        raise ValueError(f"a clip needs at least one frame, got {f}")


def _check_stride(stride: int) -> None:
    if stride < 1:
        raise ValueError(f"dense stride must be >= 1, got {stride}")


def _check_num_clips(num_clips: int) -> None:
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")


def uniform_test_offsets(num_clips: int) -> list[int]:
    """The integer offsets ``i`` with ``-m/2 <= i < m/2`` for ``m = num_clips``."""
    _check_num_clips(num_clips)
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
    _check_stride(stride)
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
    _check_num_clips(num_clips)
    max_start = max(0, num_frames - dense_span(clip_len, stride))
    # num_clips == 1: the first clip; otherwise floor(j * max_start / (m - 1)), j = 0..m-1
    last = max(1, num_clips - 1)
    starts = [(max_start * j) // last for j in range(num_clips)]
    return np.stack([_dense_clip(num_frames, s, clip_len, stride) for s in starts])


# --------------------------------------------------------------------- reference protocol


def reference_test_offsets(num_clips: int) -> list[int]:
    """The reference's clip offsets ``-m/2 < i <= m/2``: m = 10 -> -4..5, m = 2 -> {0, 1}."""
    _check_num_clips(num_clips)
    return list(range(-((num_clips - 1) // 2), num_clips // 2 + 1))


def reference_uniform_train_indices(
    num_frames: int, num_segments: int, rng: np.random.Generator
) -> np.ndarray:
    """Segments of floor(n/f) frames sharing one random offset; n < f: f draws, sorted."""
    _check(num_frames, num_segments)
    length = num_frames // num_segments
    if length >= 1:
        offset = int(rng.integers(length))
        return np.arange(num_segments, dtype=np.int64) * length + offset
    return np.sort(rng.integers(0, num_frames, num_segments)).astype(np.int64)


def reference_uniform_test_indices(
    num_frames: int, num_segments: int, num_clips: int = 1
) -> np.ndarray:
    """The reference's test clips, shape (num_clips, num_segments); see the module docstring."""
    _check(num_frames, num_segments)
    clips = []
    for k, offset in enumerate(reference_test_offsets(num_clips)):
        if num_frames > num_segments:
            tick = num_frames / float(num_segments)
            shift = float(offset)
            if shift >= tick / 2.0:
                shift = tick / 2.0 - 1e-4
            elif shift < -tick / 2.0:
                shift = -tick / 2.0
            clip = [int(tick / 2.0 + shift + tick * x) for x in range(num_segments)]
        else:
            # The reference seeds numpy's global legacy RNG with k; a private RandomState(k)
            # yields the same draws and leaves every global RNG alone.
            clip = np.random.RandomState(k).choice(num_frames, num_segments)
        clips.append(np.sort(np.asarray(clip, dtype=np.int64)))
    return np.stack(clips)


def reference_dense_train_indices(
    num_frames: int, clip_len: int, stride: int, rng: np.random.Generator
) -> np.ndarray:
    """Start in [0, n - s*f - 1] (0 when the video is not longer than s*f), wrapping mod n."""
    _check(num_frames, clip_len)
    _check_stride(stride)
    highest = num_frames - stride * clip_len
    start = int(rng.integers(0, highest)) if highest > 0 else 0
    return _dense_clip(num_frames, start, clip_len, stride)


def reference_dense_test_indices(
    num_frames: int, clip_len: int, stride: int, num_clips: int = 1
) -> np.ndarray:
    """Starts int(linspace(0, max(0, n - s*f), m)), shape (num_clips, clip_len)."""
    _check(num_frames, clip_len)
    _check_stride(stride)
    _check_num_clips(num_clips)
    last = max(0, num_frames - stride * clip_len)
    starts = np.linspace(0, last, num=num_clips, dtype=int)
    return np.stack([_dense_clip(num_frames, int(s), clip_len, stride) for s in starts])


def sample_clips(
    num_frames: int,
    clip_len: int,
    sampling: str = "uniform",
    train: bool = True,
    stride: int = 1,
    num_clips: int = 1,
    rng: np.random.Generator | None = None,
    protocol: str = "reference",
) -> np.ndarray:
    """Frame indices for one video, shape (1, clip_len) in training, (num_clips, clip_len) in test.

    ``stride`` only applies to dense sampling; training always returns one clip. ``protocol``
    is ``"reference"`` or ``"paper"`` (module docstring).
    """
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling {sampling!r}; expected one of {list(SAMPLINGS)}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"sampling protocol {protocol!r}; expected one of {list(PROTOCOLS)}")
    reference = protocol == "reference"
    if train:
        if rng is None:
            raise ValueError("training samples randomly: pass rng (numpy.random.Generator)")
        if sampling == "uniform":
            fn = reference_uniform_train_indices if reference else uniform_train_indices
            return fn(num_frames, clip_len, rng)[None]
        fn = reference_dense_train_indices if reference else dense_train_indices
        return fn(num_frames, clip_len, stride, rng)[None]
    if sampling == "uniform":
        fn = reference_uniform_test_indices if reference else uniform_test_indices
        return fn(num_frames, clip_len, num_clips)
    fn = reference_dense_test_indices if reference else dense_test_indices
    return fn(num_frames, clip_len, stride, num_clips)
