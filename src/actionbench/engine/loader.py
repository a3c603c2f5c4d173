"""Data loaders owned by the engine: one global sample order, whatever the number of processes.

Why the engine builds its own sampler instead of ``DistributedSampler(shuffle=True)`` or a
``RandomSampler``: the protocol's batch is GLOBAL, and a run on 6 GPUs, on 2 GPUs with gradient
accumulation, or resumed after pre-emption must see the same videos in the same optimizer steps.

* Order: each epoch draws ``torch.randperm(N)`` from a generator seeded with ``seed + epoch``
  (the same permutation ``DistributedSampler`` uses), keeps the first ``steps * batch_size``
  (the incomplete last global batch is dropped, as in SlowFast), and gives rank ``r`` the
  elements ``r, r + W, r + 2W, ...``. Rank r's i-th micro-batch therefore holds exactly the
  samples a single process would put in the same global batch.
* Augmentation: each item is produced under RNGs seeded from ``(seed, epoch, index)``, so a
  video gets the same random crop/flip/temporal jitter whichever worker, rank or resumed process
  loads it. This is what makes mid-epoch resume and world-size changes exact.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, get_worker_info

from actionbench.engine.seed import derive_seed


class EpochShardSampler(Sampler):
    """This rank's share of one epoch; yields ``(epoch, index)`` keys for :class:`SeededItems`."""

    def __init__(
        self,
        num_samples: int,
        global_batch: int,
        rank: int = 0,
        world_size: int = 1,
        seed: int = 0,
    ) -> None:
        self.num_samples = num_samples
        self.global_batch = global_batch
        self.rank = rank
        self.world_size = world_size
        self.seed = seed
        self.epoch = 0
        self.skip = 0

    @property
    def steps_per_epoch(self) -> int:
        return self.num_samples // self.global_batch

    def set_epoch(self, epoch: int, skip_samples: int = 0) -> None:
        """Select the epoch; ``skip_samples`` drops this rank's first samples (mid-epoch resume)."""
        self.epoch = epoch
        self.skip = skip_samples

    def indices(self) -> list[int]:
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.num_samples, generator=generator)
        order = order[: self.steps_per_epoch * self.global_batch]
        return order[self.rank :: self.world_size].tolist()[self.skip :]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter([(self.epoch, i) for i in self.indices()])

    def __len__(self) -> int:
        return self.steps_per_epoch * self.global_batch // self.world_size - self.skip


class ShardSampler(Sampler):
    """Evaluation order: every video exactly once, rank r takes indices r, r+W, ... (no padding)."""

    def __init__(self, num_samples: int, rank: int = 0, world_size: int = 1) -> None:
        self.order = list(range(rank, num_samples, world_size))

    def __iter__(self) -> Iterator[int]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)


class SeededItems(Dataset):
    """Wraps a dataset so item ``(epoch, index)`` is drawn under RNGs seeded by (seed, epoch, index).

    In a DataLoader worker the worker's own generators are reseeded; in the main process
    (``workers: 0``) they are saved and restored around the call so the training step's RNG
    stream (dropout) is untouched.
    """

    def __init__(self, dataset: Dataset, seed: int) -> None:
        self.dataset = dataset
        self.seed = seed

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int] | int) -> Any:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        item_seed = derive_seed(self.seed, epoch, index)
        if get_worker_info() is not None:
            return self._seeded(item_seed, index)
        py_state, np_state = random.getstate(), np.random.get_state()
        with torch.random.fork_rng(devices=[]):
            try:
                return self._seeded(item_seed, index)
            finally:
                random.setstate(py_state)
                np.random.set_state(np_state)

    def _seeded(self, item_seed: int, index: int) -> Any:
        random.seed(item_seed)
        np.random.seed(item_seed)
        torch.manual_seed(item_seed)
        return self.dataset[index]


def make_loader(
    dataset: Dataset,
    sampler: Sampler,
    batch_size: int,
    workers: int,
    pin_memory: bool,
    seed: int = 0,
) -> DataLoader:
    """A DataLoader over ``sampler``; workers are fresh each epoch (their RNGs are reseeded per item).

    The loader gets its own generator: left to itself it would draw its workers' base seed from
    the global torch RNG when an epoch's iterator is created, shifting the dropout stream of a
    run resumed mid-epoch relative to the uninterrupted one.
    """
    generator = torch.Generator()
    generator.manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        pin_memory=pin_memory,
        persistent_workers=False,
        generator=generator,
    )
