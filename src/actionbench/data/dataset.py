"""The training/evaluation Dataset over extracted frame folders, and its DataLoader.

``VideoClipDataset`` reads a split list (video_id, frames_dir, num_frames, label, label_name),
samples frame indices with :mod:`actionbench.data.sampling`, decodes only those JPEGs, and
applies :mod:`actionbench.data.transforms`. Items are ``(clip, label, index)``:

* training: clip (C, T, H, W), one randomly sampled and augmented clip;
* testing: clip (V, C, T, H, W), V = num_clips * num_crops, clip-major (clip 0's crops first).

Decoding: ``torchvision.io.decode_jpeg`` on the file's bytes (libjpeg-turbo, output already
(C, H, W) uint8). On 256-px frames, one thread, on this project's shared 2-core CPU machine it
was 2.2-2.4x faster than PIL + conversion to a tensor (three runs: 1,829 vs 763, 3,760 vs
1,733, 2,393 vs 1,046 frames/s); ``scripts/bench_extraction.py`` reruns the comparison into
``reports/benchmarks/data_cpu.json``.

Randomness: each training item seeds a numpy Generator from torch's RNG. DataLoader seeds torch
in every worker with ``base_seed + worker_id`` (and ``build_loader(seed=...)`` fixes base_seed),
so runs are reproducible without touching the global numpy RNG, and workers never share a stream.
Test items are deterministic.

Storage (``storage="video"``, params.yaml ``datasets.<name>.storage``): the list's ``frames_dir``
column holds a video file (``actionbench reencode`` writes them) and only the sampled frames are
decoded from it by :mod:`actionbench.data.video_reader`, then resized to ``short_side`` (the
extraction's shorter side) when the file is not already at it. Sampling, transforms and items are
the same in both modes, so one seed draws the same frame indices and the same crops.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from torchvision.io import ImageReadMode, decode_jpeg

from actionbench.data.lists import LIST_COLUMNS, read_csv_table
from actionbench.data.sampling import SAMPLINGS, sample_clips
from actionbench.data.transforms import TestTransform, TrainTransform
from actionbench.errors import ConfigError, DataError

STORAGES = ("frames", "video")
FRAME_NAME = "img_{:05d}.jpg"


def frame_path(frames_dir: str | os.PathLike, index: int) -> Path:
    """Path of 0-based frame ``index`` in an extracted folder (files are numbered from 1)."""
    return Path(frames_dir) / FRAME_NAME.format(index + 1)


def decode_frame(path: Path) -> torch.Tensor:
    """One JPEG as uint8 (3, H, W); OSError/RuntimeError propagate to the caller."""
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    return decode_jpeg(torch.frombuffer(data, dtype=torch.uint8), mode=ImageReadMode.RGB)


class VideoClipDataset(Dataset):
    """Clips of extracted videos for training (random) or testing (m clips x 1/3 crops)."""

    def __init__(
        self,
        list_csv: str | os.PathLike,
        num_frames: int,
        sampling: str = "uniform",
        dense_stride: int = 1,
        train: bool = True,
        num_clips: int = 1,
        num_crops: int = 1,
        input_size: int = 224,
        scale_size: int = 256,
        flip: bool = True,
        root: str | os.PathLike | None = None,
        storage: str = "frames",
        decoder: str = "auto",
        short_side: int | None = None,
    ):
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
        self.num_clips = 1 if train else num_clips
        self.num_crops = 1 if train else num_crops
        table = read_csv_table(self.list_csv, LIST_COLUMNS)
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
            else TestTransform(input_size=input_size, scale_size=scale_size, num_crops=num_crops)
        )

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
        """uint8 (len(frame_indices), 3, H, W); each distinct frame is decoded once."""
        if self.storage == "video":
            return self.load_video_frames(index, frame_indices)
        unique, inverse = np.unique(frame_indices, return_inverse=True)
        frames = []
        for i in unique.tolist():
            path = frame_path(self.frames_dirs[index], i)
            try:
                frames.append(decode_frame(path))
            except FileNotFoundError:
                raise DataError(self._where(index, f"frame file {path} is missing")) from None
            except (OSError, RuntimeError) as err:
                raise DataError(
                    self._where(index, f"frame file {path} is unreadable ({err})")
                ) from None
        try:
            stacked = torch.stack(frames)
        except RuntimeError as err:
            raise DataError(self._where(index, f"frames differ in size ({err})")) from None
        return stacked[torch.from_numpy(inverse.reshape(-1))]

    def _where(self, index: int, problem: str) -> str:
        return (
            f"{self.list_csv}: line {index + 2} (video {self.video_ids[index]}, "
            f"num_frames={self.video_lengths[index]}): {problem}"
        )

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
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


def build_loader(
    dataset: Dataset,
    batch_size: int,
    train: bool,
    workers: int,
    pin_memory: bool | None = None,
    distributed: bool = False,
    seed: int | None = None,
) -> DataLoader:
    """A DataLoader for ``dataset``: shuffled and ``drop_last`` in training, in order in testing.

    ``pin_memory=None`` pins when CUDA is available. With ``distributed`` a DistributedSampler
    splits the data across ranks (call ``loader.sampler.set_epoch(epoch)`` each epoch so the
    shuffle changes). Workers persist across epochs. ``seed`` fixes the shuffle and the workers'
    torch seeds, making a run's batches reproducible.
    """
    if pin_memory is None:
        pin_memory = torch.cuda.is_available()
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    sampler = (
        DistributedSampler(dataset, shuffle=train, drop_last=train, seed=seed or 0)
        if distributed
        else None
    )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=train and sampler is None,
        sampler=sampler,
        num_workers=workers,
        pin_memory=pin_memory,
        persistent_workers=workers > 0,
        drop_last=train,
        generator=generator,
    )
