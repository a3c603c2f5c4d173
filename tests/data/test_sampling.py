"""Sampling rules of supplementary D against hand-computed indices."""

from __future__ import annotations

import numpy as np
import pytest

from actionbench.data.sampling import (
    dense_test_indices,
    dense_train_indices,
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

    def integers(self, low, high):
        self.integer_calls.append((low, high))
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
