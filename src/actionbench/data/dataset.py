"""The training/evaluation Dataset over extracted frame folders, and its DataLoader.

``VideoClipDataset`` reads a split list (video_id, frames_dir, num_frames, label, label_name),
samples frame indices with :mod:`actionbench.data.sampling`, decodes only those JPEGs, and
applies :mod:`actionbench.data.transforms`. Items are ``(clip, label, index)``:

* training: clip (C, T, H, W), one randomly sampled and augmented clip;
* testing: clip (V, C, T, H, W), V = num_clips * num_crops, clip-major (clip 0's crops first).

Clips are uint8: the model's normalisation is applied to the batch on the device by
``dataset.device_transform`` (a :class:`~actionbench.data.transforms.BatchNormalize` built from
``normalization``), which the engine calls after moving the batch.

Decoding: ``torchvision.io.decode_jpeg`` on the file's bytes (libjpeg-turbo, output already
(C, H, W) uint8). On 256-px frames, one thread, on this project's shared 2-core CPU machine it
was 2.2-2.4x faster than PIL + conversion to a tensor (three runs: 1,829 vs 763, 3,760 vs
1,733, 2,393 vs 1,046 frames/s); ``scripts/bench_extraction.py`` reruns the comparison into
``reports/benchmarks/data_cpu.json``.

Randomness: each training item seeds a numpy Generator from torch's RNG; the engine's loader
(:func:`actionbench.engine.loader.make_loader` over ``SeededItems``) seeds torch per item from
(seed, epoch, index), so runs are reproducible without touching the global numpy RNG.
Test items are deterministic.

Bad frames: a missing, empty (0 bytes), truncated, non-JPEG or wrong-size frame is a DataError
naming the list line, the video and the file (never a decoder's traceback). With
``on_bad_frame="skip"`` a TRAINING item whose frames are bad is replaced by the next video of the
list (as mmaction2 and PySlowFast retry), with a warning, and counted in :attr:`skipped_clips`
(shared by the DataLoader workers) so the run's metrics record it. Test items always fail: a
video-level score cannot silently drop or duplicate a video.

Storage (``storage="video"``, params.yaml ``datasets.<name>.storage``): the list's ``frames_dir``
column holds a video file (``actionbench reencode`` writes them) and only the sampled frames are
decoded from it by :mod:`actionbench.data.video_reader`, then resized to ``short_side`` (the
extraction's shorter side) when the file is not already at it. Sampling, transforms and items are
the same in both modes, so one seed draws the same frame indices and the same crops.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision.io import ImageReadMode, decode_jpeg

from actionbench.data.frame_record import FRAME_NAME
from actionbench.data.lists import LIST_COLUMNS, read_csv_table
from actionbench.data.sampling import PROTOCOLS, SAMPLINGS, sample_clips
from actionbench.data.transforms import BatchNormalize, TestTransform, TrainTransform
from actionbench.defaults import DATASET
from actionbench.errors import ConfigError, DataError

log = logging.getLogger(__name__)

STORAGES = ("frames", "video")
BAD_FRAME_POLICIES = ("fail", "skip")
# Consecutive bad videos after which "skip" gives up: the data is broken, not a frame.
MAX_SKIPS_IN_A_ROW = 10
_TORCH_CONTEXT = re.compile(r"^\w+, \S+:\d+, ")  # "decode_jpeg, /path/decode_jpeg.cpp:171, "


def frame_path(frames_dir: str | os.PathLike, index: int) -> Path:
    """Path of 0-based frame ``index`` in an extracted folder (files are numbered from 1)."""
    return Path(frames_dir) / FRAME_NAME.format(index + 1)


def decode_frame(path: Path) -> torch.Tensor:
    """One JPEG as uint8 (3, H, W).

    FileNotFoundError for a missing file; other OSError propagate; a file that is empty, not a
    JPEG or truncated is a ValueError saying which (the caller adds the list line).
    """
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    if not data:
        raise ValueError("is empty (0 bytes)")
    try:
        return decode_jpeg(torch.frombuffer(data, dtype=torch.uint8), mode=ImageReadMode.RGB)
    except RuntimeError as err:
        lines = str(err).strip().splitlines() or [type(err).__name__]
        raise ValueError(f"is not a readable JPEG ({_TORCH_CONTEXT.sub('', lines[0])})") from None


class VideoClipDataset(Dataset):
    """Clips of extracted videos for training (random) or testing (m clips x 1/3/5/10 crops).

    ``protocol`` ("reference" or "paper") selects the sampling and test-crop rules;
    ``test_crop_size`` is the test views' side (default ``input_size``); training drops videos
    shorter than ``min_frames``, testing those shorter than ``eval_min_frames`` (the reference's
    ``test.py -e`` filters its val list as its training list; :attr:`dropped` names them and
    :attr:`list_rows` maps each kept item to its row of the list); ``normalization`` is the
    model's ``(mean, std)``.
    """

    def __init__(
        self,
        list_csv: str | os.PathLike,
        num_frames: int,
        sampling: str = "uniform",
        dense_stride: int = 1,
        train: bool = True,
        num_clips: int = 1,
        num_crops: int = 1,
        input_size: int = DATASET["input_size"],
        scale_size: int = DATASET["scale_size"],
        flip: bool = True,
        root: str | os.PathLike | None = None,
        on_bad_frame: str = "fail",
        protocol: str = "reference",
        test_crop_size: int | None = None,
        min_frames: int = 1,
        eval_min_frames: int = 1,
        normalization: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
        storage: str = "frames",
        decoder: str = "auto",
        short_side: int | None = None,
    ):
        if on_bad_frame not in BAD_FRAME_POLICIES:
            raise ConfigError(
                f"on_bad_frame {on_bad_frame!r}; expected one of {list(BAD_FRAME_POLICIES)}"
            )
        self.on_bad_frame = on_bad_frame
        # Shared memory: forked/spawned DataLoader workers all add to the same counter.
        self._skipped = multiprocessing.get_context().Value("q", 0)
        if storage not in STORAGES:
            raise ConfigError(f"storage {storage!r}; expected one of {list(STORAGES)}")
        self.storage = storage
        self.short_side = short_side
        self.decoder = None
        self._reader = None
        if storage == "video":
            from actionbench.data.video_reader import resolve_backend

            self.decoder = resolve_backend(decoder)
        if sampling not in SAMPLINGS:
            raise ConfigError(f"sampling {sampling!r}; expected one of {list(SAMPLINGS)}")
        if protocol not in PROTOCOLS:
            raise ConfigError(f"protocol {protocol!r}; expected one of {list(PROTOCOLS)}")
        if not train and num_crops == 10 and not flip:
            raise ConfigError(
                "num_crops=10 adds mirrored views, but flipping is off for this dataset "
                "(its `flip` setting): use 1, 3 or 5 crops"
            )
        if num_frames < 1 or dense_stride < 1 or num_clips < 1:
            raise ConfigError(
                f"num_frames={num_frames}, dense_stride={dense_stride}, num_clips={num_clips}; "
                "expected positive integers"
            )
        self.list_csv = Path(list_csv)
        self.num_frames = num_frames
        self.sampling = sampling
        self.dense_stride = dense_stride
        self.train = train
        self.protocol = protocol
        self.list_lines: np.ndarray | None = None  # editor line of each kept row, when filtered
        self.num_clips = 1 if train else num_clips
        self.num_crops = 1 if train else num_crops
        table = read_csv_table(self.list_csv, LIST_COLUMNS)
        if table.empty:
            raise DataError(
                f"{self.list_csv}: no videos (split {self.list_csv.stem!r} of dataset "
                f"{self.list_csv.parent.name!r} is empty; see excluded.csv beside it)"
            )
        try:
            lengths = table["num_frames"].astype(np.int64).to_numpy()
            labels = table["label"].astype(np.int64).to_numpy()
        except (ValueError, TypeError) as err:
            raise DataError(
                f"{self.list_csv}: num_frames and label must be integers ({err})"
            ) from err
        bad = np.flatnonzero(lengths < 1)
        if len(bad):
            raise DataError(
                f"{self.list_csv}: line {bad[0] + 2} (video {table['video_id'].iloc[bad[0]]}) "
                f"has num_frames={lengths[bad[0]]}; expected >= 1"
            )
        self.list_rows = np.arange(len(table))  # row of the list file of each item (0-based)
        # (video_id, num_frames, reason) of the listed videos this dataset leaves out
        self.dropped: list[tuple[str, int, str]] = []
        shortest, key = (
            (min_frames, "min_frames") if train else (eval_min_frames, "eval_min_frames")
        )
        if shortest > 1:
            keep = lengths >= shortest
            if not keep.all():
                log.info(
                    "%s: %d of %d %s videos have fewer than %s=%d frames; dropped",
                    self.list_csv, int((~keep).sum()), len(keep),
                    "training" if train else "evaluation", key, shortest,
                )  # fmt: skip
            if not keep.any():
                raise DataError(
                    f"{self.list_csv}: every video has fewer than {key}={shortest} frames"
                )
            reason = f"fewer than {shortest} frames ({key})"
            self.dropped = [
                (str(v), int(n), reason)
                for v, n in zip(table["video_id"][~keep], lengths[~keep], strict=True)
            ]
            table, lengths, labels = table[keep].reset_index(drop=True), lengths[keep], labels[keep]
            self.list_rows = np.flatnonzero(keep)
            self.list_lines = self.list_rows + 2
        base = Path(root) if root is not None else None
        self.frames_dirs = [
            str(base / d) if base is not None and not Path(d).is_absolute() else str(d)
            for d in table["frames_dir"].astype(str)
        ]
        self.video_ids = table["video_id"].astype(str).tolist()
        self.video_lengths = lengths
        self.labels = labels
        self.transform = (
            TrainTransform(input_size=input_size, flip=flip)
            if train
            else TestTransform(
                input_size=test_crop_size or input_size,
                scale_size=scale_size,
                num_crops=num_crops,
                protocol=protocol,
            )
        )
        self.device_transform = BatchNormalize(*normalization) if normalization else None

    def __len__(self) -> int:
        return len(self.video_ids)

    @property
    def views_per_video(self) -> int:
        """V of a test item: clips x crops (1 in training)."""
        return self.num_clips * self.num_crops

    def sample_indices(self, index: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """0-based frame indices of item ``index``, shape (clips, num_frames)."""
        return sample_clips(
            int(self.video_lengths[index]),
            self.num_frames,
            sampling=self.sampling,
            train=self.train,
            stride=self.dense_stride,
            num_clips=self.num_clips,
            rng=rng,
            protocol=self.protocol,
        )

    def __getstate__(self) -> dict:
        # A decoder is made in each DataLoader worker, never pickled into one.
        return {**self.__dict__, "_reader": None}

    def load_video_frames(self, index: int, frame_indices: np.ndarray) -> torch.Tensor:
        """Video storage: uint8 (len(frame_indices), 3, H, W) decoded from the list's video file,
        the shorter side resized to ``short_side`` when it differs."""
        from torchvision.transforms.v2 import functional as F

        from actionbench.data.video_reader import make_reader

        if self._reader is None:
            self._reader = make_reader(self.decoder)
        path = self.frames_dirs[index]
        if Path(path).is_dir():
            raise DataError(
                self._where(
                    index,
                    f"{path} is a frame folder but storage is video: build the lists from "
                    "`actionbench reencode` tables (Snakemake does), or set storage: frames",
                )
            )
        if not Path(path).is_file():
            raise DataError(self._where(index, f"video file {path} is missing"))
        try:
            frames = self._reader.read(path, np.asarray(frame_indices).reshape(-1))
        except DataError as err:
            raise DataError(self._where(index, str(err))) from None
        if self.short_side is not None and min(frames.shape[-2:]) != self.short_side:
            frames = F.resize(frames, [self.short_side], antialias=True)
        return frames

    def load_frames(self, index: int, frame_indices: np.ndarray) -> torch.Tensor:
        """uint8 (len(frame_indices), 3, H, W); each distinct frame is decoded once.

        The result is channels-last in memory (the decoder's own layout), the layout the
        transforms' uint8 resize is fastest on.
        """
        if self.storage == "video":
            return self.load_video_frames(index, frame_indices)
        unique, inverse = np.unique(frame_indices, return_inverse=True)
        frames = []
        paths = [frame_path(self.frames_dirs[index], i) for i in unique.tolist()]
        for path in paths:
            try:
                frames.append(decode_frame(path))
            except FileNotFoundError:
                raise DataError(self._where(index, f"frame file {path} is missing")) from None
            except ValueError as err:
                raise DataError(self._where(index, f"frame file {path} {err}")) from None
            except OSError as err:
                raise DataError(
                    self._where(index, f"frame file {path} is unreadable ({err})")
                ) from None
        sizes = [tuple(f.shape[1:]) for f in frames]
        if len(set(sizes)) > 1:
            usual = Counter(sizes).most_common(1)[0][0]
            odd = next(i for i, size in enumerate(sizes) if size != usual)
            raise DataError(
                self._where(
                    index,
                    f"frame file {paths[odd]} is {sizes[odd][1]}x{sizes[odd][0]} but the clip's "
                    f"other frames are {usual[1]}x{usual[0]} (re-extract the video)",
                )
            )
        # One copy: each sampled position takes its decoded frame, in (H, W, C) memory.
        stacked = torch.stack([frames[j].permute(1, 2, 0) for j in inverse.reshape(-1)])
        return stacked.permute(0, 3, 1, 2)

    def _where(self, index: int, problem: str) -> str:
        return (
            f"{self.list_csv}: line {self._line(index)} (video {self.video_ids[index]}, "
            f"num_frames={self.video_lengths[index]}): {problem}"
        )

    @property
    def skipped_clips(self) -> int:
        """Training items replaced because of bad frames (all workers, since construction)."""
        return int(self._skipped.value)

    def _line(self, index: int) -> int:
        return int(self.list_lines[index]) if self.list_lines is not None else index + 2

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
        if not self.train or self.on_bad_frame == "fail":
            return self._item(index)
        for attempt in range(min(MAX_SKIPS_IN_A_ROW, len(self))):
            candidate = (index + attempt) % len(self)
            try:
                return self._item(candidate)
            except DataError as err:
                with self._skipped.get_lock():
                    self._skipped.value += 1
                log.warning("data.on_bad_frame is 'skip': skipping this clip: %s", err)
        raise DataError(
            f"{self.list_csv}: {min(MAX_SKIPS_IN_A_ROW, len(self))} videos in a row from line "
            f"{self._line(index)} have bad frames; the data is broken (run `actionbench extract --verify "
            "--deep`), not a frame"
        )

    def _item(self, index: int) -> tuple[torch.Tensor, int, int]:
        if self.train:
            seed = int(torch.randint(0, 2**62, (1,)).item())
            rng = np.random.default_rng(seed)
            indices = self.sample_indices(index, rng)[0]
            clip = self.transform(self.load_frames(index, indices), rng)
        else:
            indices = self.sample_indices(index)
            frames = self.load_frames(index, indices.reshape(-1))
            per_clip = frames.view(indices.shape[0], indices.shape[1], *frames.shape[1:])
            clip = torch.cat([self.transform(c) for c in per_clip])
        return clip, int(self.labels[index]), index
