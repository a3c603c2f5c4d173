"""Both sampling protocols (paper text, reference code) against hand-computed indices."""

from __future__ import annotations

import numpy as np
import pytest

from actionbench.data.sampling import (
    dense_test_indices,
    dense_train_indices,
    reference_dense_test_indices,
    reference_dense_train_indices,
    reference_test_offsets,
    reference_uniform_test_indices,
    reference_uniform_train_indices,
    sample_clips,
    segment_bounds,
    uniform_test_indices,
    uniform_test_offsets,
    uniform_train_indices,
)


class FixedRng:
    """Stands in for numpy.random.Generator with chosen draws."""

    def __init__(self, u=None, start=None):
        self.u, self.start = u, start
        self.integer_calls = []

    def random(self, size):
        return np.asarray(self.u, dtype=float)[:size]

    def integers(self, *args):
        self.integer_calls.append(args)
        return self.start


# --------------------------------------------------------------------------- uniform


def test_offsets_follow_minus_half_m_to_half_m():
    assert uniform_test_offsets(1) == [0]
    assert uniform_test_offsets(2) == [-1, 0]
    assert uniform_test_offsets(3) == [-1, 0, 1]
    assert uniform_test_offsets(10) == [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4]


def test_segment_bounds_by_hand():
    # n=10, f=4: segments [0,2.5) [2.5,5) [5,7.5) [7.5,10)
    first, last = segment_bounds(10, 4)
    assert first.tolist() == [0, 2, 5, 7]
    assert last.tolist() == [2, 4, 7, 9]


def test_uniform_test_middle_frames():
    assert uniform_test_indices(16, 8).tolist() == [[1, 3, 5, 7, 9, 11, 13, 15]]
    # floor((2x+1) * 10 / 8) = 1, 3, 6, 8
    assert uniform_test_indices(10, 4).tolist() == [[1, 3, 6, 8]]
    assert uniform_test_indices(30, 3).tolist() == [[5, 15, 25]]


def test_uniform_multi_clip_offsets_shift_the_middle_frame():
    assert uniform_test_indices(30, 3, num_clips=3).tolist() == [
        [4, 14, 24],
        [5, 15, 25],
        [6, 16, 26],
    ]


def test_uniform_multi_clip_offsets_are_clamped_inside_the_segment():
    # n=16, f=8: segment x = frames {2x, 2x+1}, middle 2x+1; offsets -5..4.
    clips = uniform_test_indices(16, 8, num_clips=10)
    low = [0, 2, 4, 6, 8, 10, 12, 14]
    high = [1, 3, 5, 7, 9, 11, 13, 15]
    assert clips.tolist() == [low] * 5 + [high] * 5


def test_uniform_train_one_frame_per_segment_by_hand():
    # point (x + u) * n / f; n=10, f=4
    assert uniform_train_indices(10, 4, FixedRng(u=[0, 0, 0, 0])).tolist() == [0, 2, 5, 7]
    assert uniform_train_indices(10, 4, FixedRng(u=[0.5] * 4)).tolist() == [1, 3, 6, 8]
    assert uniform_train_indices(10, 4, FixedRng(u=[0.999] * 4)).tolist() == [2, 4, 7, 9]
    assert uniform_train_indices(16, 8, FixedRng(u=[0.6] * 8)).tolist() == [
        1,
        3,
        5,
        7,
        9,
        11,
        13,
        15,
    ]


def test_uniform_train_stays_in_segments_and_reaches_every_frame():
    rng = np.random.default_rng(0)
    first, last = segment_bounds(16, 8)
    seen = set()
    for _ in range(200):
        idx = uniform_train_indices(16, 8, rng)
        assert ((idx >= first) & (idx <= last)).all()
        seen.update(idx.tolist())
    assert seen == set(range(16))


def test_uniform_short_video_repeats_frames_in_order():
    # n=3 < f=8: floor((2x+1) * 3 / 16)
    assert uniform_test_indices(3, 8).tolist() == [[0, 0, 0, 1, 1, 2, 2, 2]]
    idx = uniform_train_indices(3, 8, np.random.default_rng(1))
    assert idx.min() >= 0 and idx.max() <= 2 and (np.diff(idx) >= 0).all()
    assert uniform_test_indices(1, 4, num_clips=3).tolist() == [[0, 0, 0, 0]] * 3


# --------------------------------------------------------------------------- dense


def test_dense_train_random_start_by_hand():
    rng = FixedRng(start=5)
    # n=20, f=4, stride 2: span 7, starts 0..13
    assert dense_train_indices(20, 4, 2, rng).tolist() == [5, 7, 9, 11]
    assert rng.integer_calls == [(0, 14)]


def test_dense_train_start_range():
    rng = np.random.default_rng(0)
    starts = {int(dense_train_indices(20, 4, 2, rng)[0]) for _ in range(500)}
    assert starts == set(range(14))


def test_dense_test_first_clip_and_evenly_spaced_clips():
    assert dense_test_indices(20, 4, 2).tolist() == [[0, 2, 4, 6]]
    # starts floor(j * 13 / 2) = 0, 6, 13
    assert dense_test_indices(20, 4, 2, num_clips=3).tolist() == [
        [0, 2, 4, 6],
        [6, 8, 10, 12],
        [13, 15, 17, 19],
    ]
    # n=64, f=8, stride 1: starts floor(j * 56 / 9) for j = 0..9
    starts = dense_test_indices(64, 8, 1, num_clips=10)[:, 0].tolist()
    assert starts == [0, 6, 12, 18, 24, 31, 37, 43, 49, 56]


def test_dense_short_video_loops():
    # n=5 < span 7: start 0, indices wrap modulo 5
    assert dense_train_indices(5, 4, 2, np.random.default_rng(0)).tolist() == [0, 2, 4, 1]
    assert dense_test_indices(5, 4, 2, num_clips=3).tolist() == [[0, 2, 4, 1]] * 3
    assert dense_test_indices(2, 5, 1).tolist() == [[0, 1, 0, 1, 0]]


# --------------------------------------------------------------------------- dispatcher


def test_sample_clips_shapes_and_errors():
    rng = np.random.default_rng(0)
    assert sample_clips(40, 8, "uniform", train=True, rng=rng).shape == (1, 8)
    assert sample_clips(40, 8, "dense", train=True, stride=2, rng=rng).shape == (1, 8)
    assert sample_clips(40, 8, "uniform", train=False, num_clips=4).shape == (4, 8)
    assert sample_clips(40, 8, "dense", train=False, num_clips=4).shape == (4, 8)
    with pytest.raises(ValueError, match="pass rng"):
        sample_clips(40, 8, "uniform", train=True)
    with pytest.raises(ValueError, match="sampling 'sparse'"):
        sample_clips(40, 8, "sparse", train=False)
    with pytest.raises(ValueError, match="at least one frame"):
        uniform_test_indices(0, 8)
    with pytest.raises(ValueError, match="sampling protocol 'tsn'"):
        sample_clips(40, 8, train=False, protocol="tsn")


def test_paper_protocol_stays_selectable():
    assert sample_clips(30, 3, train=False, num_clips=2, protocol="paper").tolist() == [
        [4, 14, 24],
        [5, 15, 25],
    ]
    assert sample_clips(30, 3, train=False, num_clips=2).tolist() == [[5, 15, 25], [6, 16, 26]]


# ------------------------------------------------------------- reference protocol, uniform
# IBM/action-recognition-pytorch, utils/video_dataset.py; values computed by hand from its rules
# (and checked once against the reference code itself on the same inputs, outside the tests).


def test_reference_offsets_run_from_above_minus_half_m_to_half_m():
    assert reference_test_offsets(1) == [0]
    assert reference_test_offsets(2) == [0, 1]
    assert reference_test_offsets(3) == [-1, 0, 1]
    assert reference_test_offsets(10) == [-4, -3, -2, -1, 0, 1, 2, 3, 4, 5]


def test_reference_uniform_train_one_shared_offset_long_video():
    # n=30, f=8: segments of floor(30/8) = 3 frames; ONE offset o in [0, 3) for all of them;
    # frames 24..29 are never used.
    rng = FixedRng(start=2)
    assert reference_uniform_train_indices(30, 8, rng).tolist() == [2, 5, 8, 11, 14, 17, 20, 23]
    assert rng.integer_calls == [(3,)]
    rng = np.random.default_rng(0)
    seen = {tuple(reference_uniform_train_indices(30, 8, rng)) for _ in range(200)}
    assert seen == {tuple(range(o, 24, 3)) for o in range(3)}


def test_reference_uniform_train_equal_and_short_videos():
    # n = f: segments of one frame, offset 0.
    assert reference_uniform_train_indices(8, 8, FixedRng(start=0)).tolist() == list(range(8))
    # n=3 < f=8: 8 draws with replacement, sorted.
    rng = FixedRng(start=np.array([2, 0, 1, 1, 0, 2, 2, 0]))
    assert reference_uniform_train_indices(3, 8, rng).tolist() == [0, 0, 0, 1, 1, 2, 2, 2]
    assert rng.integer_calls == [(0, 3, 8)]


def test_reference_uniform_test_long_video():
    # n=30, f=3: tick 10, frame int(5 + i + 10x), i clamped to [-5, 5).
    assert reference_uniform_test_indices(30, 3).tolist() == [[5, 15, 25]]
    assert reference_uniform_test_indices(30, 3, num_clips=2).tolist() == [
        [5, 15, 25],
        [6, 16, 26],
    ]
    # m=10: i = -4..5; i=5 clamps to 5 - 1e-4 -> int(9.9999 + 10x) = 9, 19, 29.
    clips = reference_uniform_test_indices(30, 3, num_clips=10)
    assert clips.tolist() == [[1 + k, 11 + k, 21 + k] for k in range(9)] + [[9, 19, 29]]


def test_reference_uniform_test_offsets_clamp_to_half_a_tick():
    # n=10, f=4: tick 2.5, offsets clamp to [-1.25, 1.2499]; m=10 -> i = -4..5.
    clips = reference_uniform_test_indices(10, 4, num_clips=10).tolist()
    assert clips[:4] == [[0, 2, 5, 7]] * 4  # i = -4..-1 -> int(2.5x) / int(0.25 + 2.5x)
    assert clips[4] == [1, 3, 6, 8]  # i = 0: the middle frames int(1.25 + 2.5x)
    assert clips[5:] == [[2, 4, 7, 9]] * 5  # i = 1 and the clamped 2..5


def test_reference_uniform_test_equal_and_short_videos_draw_per_clip_without_global_rng():
    # n <= f: clip k draws f frames with replacement after seeding with k (numpy's legacy
    # MT19937), sorted. The reference seeds the GLOBAL RNG; we must leave it alone.
    np.random.seed(12345)
    before = np.random.get_state()[1].copy()
    # n = f = 8: even an equal-length video is drawn at random (RandomState(0).choice(8, 8)).
    assert reference_uniform_test_indices(8, 8).tolist() == [[0, 3, 3, 3, 4, 5, 7, 7]]
    assert reference_uniform_test_indices(3, 8, num_clips=2).tolist() == [
        [0, 0, 0, 1, 1, 1, 2, 2],  # RandomState(0).choice(3, 8), sorted
        [0, 0, 0, 0, 1, 1, 1, 1],  # RandomState(1).choice(3, 8), sorted
    ]
    assert np.array_equal(np.random.get_state()[1], before)


# --------------------------------------------------------------- reference protocol, dense


def test_reference_dense_train_start_range():
    # n=40, f=8, s=2: start in [0, 40 - 16 - 1] = [0, 23].
    rng = FixedRng(start=23)
    assert reference_dense_train_indices(40, 8, 2, rng).tolist() == list(range(23, 39, 2))
    assert rng.integer_calls == [(0, 24)]
    rng = np.random.default_rng(0)
    starts = {int(reference_dense_train_indices(40, 8, 2, rng)[0]) for _ in range(800)}
    assert starts == set(range(24))


def test_reference_dense_equal_and_short_videos_start_at_zero_and_wrap():
    # n = s*f = 16: start 0. n=10 < 16: start 0, indices wrap mod 10.
    rng = FixedRng(start=99)
    assert reference_dense_train_indices(16, 8, 2, rng).tolist() == list(range(0, 16, 2))
    assert reference_dense_train_indices(10, 8, 2, rng).tolist() == [0, 2, 4, 6, 8, 0, 2, 4]
    assert rng.integer_calls == []
    assert (
        reference_dense_test_indices(10, 8, 2, num_clips=3).tolist()
        == [[0, 2, 4, 6, 8, 0, 2, 4]] * 3
    )


def test_reference_dense_test_starts_linspace():
    # n=40, f=8, s=2: starts int(linspace(0, 24, m)).
    assert reference_dense_test_indices(40, 8, 2).tolist() == [list(range(0, 16, 2))]
    starts = reference_dense_test_indices(40, 8, 2, num_clips=10)[:, 0].tolist()
    assert starts == [0, 2, 5, 8, 10, 13, 16, 18, 21, 24]
    # the paper protocol ends s frames later: floor(j * 25 / 9)
    assert dense_test_indices(40, 8, 2, num_clips=10)[:, 0].tolist() == [
        0, 2, 5, 8, 11, 13, 16, 19, 22, 25,
    ]  # fmt: skip
    assert reference_dense_test_indices(40, 8, 2, num_clips=3)[:, 0].tolist() == [0, 12, 24]
