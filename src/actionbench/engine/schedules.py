"""Learning-rate schedules of the protocol, as pure functions of (epoch, iteration).

Pure functions rather than ``torch.optim.lr_scheduler`` objects because a resumed or pre-empted
run must land on exactly the lr of the uninterrupted one: the lr is recomputed from the position
in training, so there is no scheduler state that could drift.

Granularity (matching the reference code of each part of the paper):

* ``cosine`` (Table 12, 8-frame stage; D.3 transfer): per EPOCH, as the reference IBM code steps
  ``CosineAnnealingLR(T_max=epochs, eta_min=0)`` once per epoch:
  ``lr_e = min_lr + (lr - min_lr) * (1 + cos(pi * e / epochs)) / 2`` for 0-based epoch ``e``.
* ``multistep`` (Table 12, progressive stages): per EPOCH, ``lr * gamma ** (#milestones <= e)``,
  i.e. ``MultiStepLR`` semantics: with milestones 10/20/30 the first 10 epochs (0..9) use ``lr``,
  epochs 10..19 use ``lr * gamma`` and so on ("drops 10x at the 10-th epoch").
* ``warmup_cosine`` (D.2, full datasets, after SlowFast): per ITERATION, linear from
  ``warmup_start_lr`` to ``lr`` over ``warmup_epochs``, then a half-period cosine from ``lr`` to
  ``min_lr`` over the remaining ``epochs - warmup_epochs``.

``optim.lr_scaling`` scales the peak ``lr`` only (not ``warmup_start_lr`` nor ``min_lr``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from actionbench.engine import runcfg
from actionbench.errors import ConfigError

SCHEDULES = ("cosine", "multistep", "warmup_cosine")


def peak_lr(cfg: Mapping[str, Any]) -> float:
    """``optim.lr``, linearly scaled by ``batch_size / base_batch_size`` when ``lr_scaling``."""
    lr = runcfg.get_float(cfg, "optim.lr")
    if runcfg.get(cfg, "optim.lr_scaling"):
        batch = runcfg.get_int(cfg, "optim.batch_size", minimum=1)
        base = runcfg.get_int(cfg, "optim.base_batch_size", minimum=1)
        lr = lr * batch / base
    return lr


@dataclass(frozen=True)
class Schedule:
    """One schedule, fully determined by the run config (see module docstring for formulas)."""

    name: str
    lr: float
    epochs: int
    # Neutral placeholders for fields the named schedule does not use; from_config fills the
    # used ones from the run config.
    milestones: tuple[int, ...] = ()
    gamma: float = 1.0
    warmup_epochs: float = 0.0
    warmup_start_lr: float = 0.0
    min_lr: float = 0.0

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Schedule:
        """Reads only the keys the named schedule uses (each required for it)."""
        name = runcfg.get_choice(cfg, "schedule.name", SCHEDULES)
        epochs = runcfg.get_int(cfg, "schedule.epochs", minimum=1)
        fields: dict[str, Any] = {}
        if name == "multistep":
            milestones = runcfg.get(cfg, "schedule.milestones")
            if not milestones or any(
                isinstance(m, bool) or not isinstance(m, int) for m in milestones
            ):
                raise ConfigError(
                    "run config key 'schedule.milestones' must be a non-empty list of epoch "
                    f"numbers for schedule 'multistep'; got {milestones!r}"
                )
            if (
                list(milestones) != sorted(milestones)
                or not 0 < milestones[0] <= milestones[-1] < epochs
            ):
                raise ConfigError(
                    "run config key 'schedule.milestones' must be increasing epochs in "
                    f"1..{epochs - 1} (schedule.epochs={epochs}); got {milestones!r}"
                )
            fields.update(
                milestones=tuple(milestones), gamma=runcfg.get_float(cfg, "schedule.gamma")
            )
        else:
            fields["min_lr"] = runcfg.get_float(cfg, "schedule.min_lr")
        if name == "warmup_cosine":
            warmup = runcfg.get_float(cfg, "schedule.warmup_epochs")
            if not 0 <= warmup < epochs:
                raise ConfigError(
                    f"run config key 'schedule.warmup_epochs' must be in [0, {epochs}) for "
                    f"'warmup_cosine' (schedule.epochs={epochs}); got {warmup}"
                )
            fields.update(
                warmup_epochs=warmup,
                warmup_start_lr=runcfg.get_float(cfg, "schedule.warmup_start_lr"),
            )
        return cls(name=name, lr=peak_lr(cfg), epochs=epochs, **fields)

    @property
    def per_iteration(self) -> bool:
        return self.name == "warmup_cosine"

    def lr_at(self, epoch: int, iteration: int = 0, iters_per_epoch: int = 1) -> float:
        """Learning rate for 0-based ``epoch`` and 0-based ``iteration`` within it."""
        if self.name == "cosine":
            return self._cosine(epoch, 0.0, self.epochs, self.lr)
        if self.name == "multistep":
            return self.lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)
        t = epoch + iteration / max(iters_per_epoch, 1)
        if t < self.warmup_epochs:
            return self.warmup_start_lr + (self.lr - self.warmup_start_lr) * t / self.warmup_epochs
        return self._cosine(t, self.warmup_epochs, self.epochs, self.lr)

    def _cosine(self, t: float, start: float, end: float, peak: float) -> float:
        progress = (t - start) / (end - start)
        return self.min_lr + (peak - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
