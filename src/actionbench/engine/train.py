"""The training loop: the paper's protocol (Table 12, supplementary D) with no lost work.

What a run does, in order:

1. joins the process group if launched by torchrun/srun (see :mod:`.distributed`), splits the
   GLOBAL ``optim.batch_size`` into ``world_size x accum_steps`` micro-batches;
2. builds the model (ImageNet init, previous stage's ``final.pt`` or scratch), SGD with the
   config's momentum / weight decay / nesterov, and the lr schedule (:mod:`.schedules`);
3. resumes from ``<output_dir>/checkpoints/last.pt`` if it exists and was written by a run of
   the same identity (:mod:`actionbench.identity`: settings, data, initial weights): same epoch,
   same step, same RNG streams, same MLflow run. A ``last.pt`` of another identity is set aside
   as ``checkpoints/set-aside-<its fingerprint>.pt`` (``checkpoints.keep_set_aside`` newest
   kept) and training starts fresh; one of another code version resumes with a warning that the
   run's record keeps (``code_resumes``);
4. per epoch: trains, validates (clip-level top-1, every ``eval.val_every`` epochs and the last),
   rewrites ``last.pt`` atomically, ``history.csv`` and the MLflow metrics;
5. at the end writes ``final.pt`` (weights only; its SHA-256 goes into ``train_metrics.json``
   under ``final``, the next stage's identity reads it there) and ``train_metrics.json`` (with the
   run's ``identity`` and ``code``).

SIGTERM/SIGUSR1/SIGINT (Ctrl-C) checkpoint at the next step and raise :class:`Preempted`;
training clips skipped for bad frames (``data.on_bad_frame: skip``) are counted in
``train_metrics.json`` (``skipped_clips``, kept across resumptions); a non-finite loss
raises TrainingError before the optimizer step, leaving the last good checkpoint untouched.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import shutil
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from actionbench.engine import checkpoint as ckpt
from actionbench.engine import distributed, factory, runcfg
from actionbench.engine.code_version import code_version
from actionbench.engine.evaluate import device_transform, validate
from actionbench.engine.loader import EpochShardSampler, SeededItems, make_loader
from actionbench.engine.preemption import Preempted, StopFlag
from actionbench.engine.progress import Progress
from actionbench.engine.runtime import Runtime
from actionbench.engine.schedules import Schedule
from actionbench.engine.seed import capture_rng, derive_seed, restore_rng, seed_all
from actionbench.engine.tracking import TAG_PREFIX, Tracker
from actionbench.errors import ConfigError, ModelError, TrainingError
from actionbench.identity import identity_changes, train_identity, weights_record
from actionbench.models.pretrained import scratch_report

log = logging.getLogger(__name__)

HISTORY_COLUMNS = ["epoch", "loss", "lr", "train_top1", "val_top1", "clips_per_s", "epoch_seconds"]
EPOCH_METRICS = ["loss", "lr", "train_top1", "val_top1", "clips_per_s", "epoch_seconds"]
INIT_COUNTS = ("loaded", "inflated", "new")  # logged to MLflow as init_<count>

SET_ASIDE_GLOB = ("set-aside-*.pt", "stale-*.pt")  # stale-*: the name before identities


def micro_batch_size(cfg: Mapping[str, Any], world_size: int) -> int:
    """Per-process batch: global ``optim.batch_size`` / (world_size x ``optim.accum_steps``)."""
    batch = runcfg.get_int(cfg, "optim.batch_size", minimum=1)
    accum = runcfg.get_int(cfg, "optim.accum_steps", minimum=1)
    if batch % (world_size * accum):
        raise ConfigError(
            f"optim.batch_size ({batch}) must be divisible by world_size ({world_size}) x "
            f"optim.accum_steps ({accum}): choose accum_steps or the number of GPUs accordingly"
        )
    return batch // (world_size * accum)


def _history_csv(history: list[Mapping[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=HISTORY_COLUMNS, extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in history:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in HISTORY_COLUMNS})
    return buffer.getvalue().encode()


class _Trainer:
    """State of one training job; ``run()`` is the whole job."""

    def __init__(self, cfg: Mapping[str, Any], rt: Runtime) -> None:
        self.cfg = cfg
        self.rt = rt
        self.env = rt.env
        self.out_dir = runcfg.output_dir(cfg)
        self.last = ckpt.last_path(self.out_dir)
        self.schedule = Schedule.from_config(cfg)
        self.epochs = self.schedule.epochs
        self.accum = runcfg.get_int(cfg, "optim.accum_steps", minimum=1)
        self.micro = micro_batch_size(cfg, self.env.world_size)
        self.global_batch = runcfg.get_int(cfg, "optim.batch_size", minimum=1)
        self.workers = runcfg.get_int(cfg, "data.workers", minimum=0)
        self.clip_norm = runcfg.get_float(cfg, "optim.clip_grad_norm", allow_none=True)
        self.val_every = runcfg.get_int(cfg, "eval.val_every", minimum=1)
        self.eval_batch = runcfg.get_int(cfg, "eval.batch_size", minimum=1)

        self.train_set = factory.build_dataset(cfg, "train", train=True)
        self.val_set = factory.build_dataset(cfg, "val", train=False)
        self.on_device = device_transform(self.train_set)  # the model's normalisation, on device
        self.sampler = EpochShardSampler(
            len(self.train_set),
            self.global_batch,
            self.env.rank,
            self.env.world_size,
            rt.seed,  # type: ignore[arg-type]
        )
        if self.sampler.steps_per_epoch == 0:
            raise ConfigError(
                f"optim.batch_size ({self.global_batch}) exceeds the number of training videos "
                f"({len(self.train_set)}) in {runcfg.get(cfg, 'data.train_list')}"  # type: ignore[arg-type]
            )

        # Progress state (restored from last.pt when resuming).
        self.start_epoch = 0
        self.step_in_epoch = 0
        self.partial = torch.zeros(4, dtype=torch.float64)  # loss sum, correct, clips, seconds
        self.best_top1 = float("nan")
        self.best_epoch = 0
        self.history: list[dict[str, Any]] = []
        self.mlflow_run_id: str | None = None
        self.rng_states: list[dict[str, Any]] | None = None
        self.total_seconds = 0.0
        self.skipped_before = 0  # clips skipped for bad frames before this job resumed
        self.identity = train_identity(cfg)
        self.code = code_version()
        self.code_resumes: list[dict[str, Any]] = []  # resumptions under another code version
        self.init_weights: dict[str, Any] | None = None  # LoadReport.to_record() of the run

        # Order matters: device placement before the optimizer exists and before its state is
        # loaded, so momentum buffers land on the parameters' device.
        resume = self._resumable()
        self.model = self._place(self._build_model(init_weights=not resume))
        self.optimizer = torch.optim.SGD(
            self.model.parameters(),
            lr=self.schedule.lr,
            momentum=runcfg.get_float(cfg, "optim.momentum"),
            weight_decay=runcfg.get_float(cfg, "optim.weight_decay"),
            nesterov=bool(runcfg.get(cfg, "optim.nesterov")),
        )
        self.scaler = torch.amp.GradScaler(
            rt.device.type, enabled=rt.amp_dtype == torch.float16 and rt.device.type == "cuda"
        )
        self.criterion = nn.CrossEntropyLoss()
        if resume:
            self._load_last()
        else:
            self._remove_stale_outputs()
        self.ddp_model: nn.Module = self.model
        if self.env.distributed:
            ids = [rt.device.index] if rt.device.type == "cuda" else None
            self.ddp_model = DistributedDataParallel(self.model, device_ids=ids)
        self.forward_model = rt.compiled(self.ddp_model)  # runtime.compile; else ddp_model
        self.tracker = Tracker(cfg, "train", enabled=self.env.is_main, device=rt.device)

    # -- construction ----------------------------------------------------------------------
    def _build_model(self, init_weights: bool) -> nn.Module:
        """Initial weights per ``init.kind``; none are loaded when last.pt will overwrite them.

        Where every tensor came from (loaded, inflated, new) is kept as ``self.init_weights``
        for train_metrics.json, MLflow and last.pt (a resumed run restores it from there).
        """
        kind = runcfg.get_choice(self.cfg, "init.kind", ("imagenet", "checkpoint", "scratch"))
        path = runcfg.get(self.cfg, "init.path")
        if init_weights and kind in ("imagenet", "checkpoint"):
            if not path:
                raise ConfigError(f"init.kind is {kind!r} but init.path is not set")
            if not Path(path).is_file():
                what = (
                    "train the previous stage first"
                    if kind == "checkpoint"
                    else "fetch the ImageNet weights"
                )
                raise ModelError(f"init.path {path} does not exist: {what}")
        model = factory.build_model(
            self.cfg, pretrained=path if init_weights and kind == "imagenet" else None
        )
        if not init_weights:
            return model
        if kind == "checkpoint":
            report = ckpt.load_model_weights(
                model, path, new_head=bool(runcfg.get(self.cfg, "init.new_head"))
            )
        elif kind == "imagenet":
            report = getattr(model, "load_report", None)  # None from a test's stand-in factory
        else:
            report = scratch_report(model)
        self.init_weights = report.to_record() if report is not None else None
        return model

    def _place(self, model: nn.Module) -> nn.Module:
        """SyncBatchNorm (multi-GPU only), device, memory format."""
        if self.env.distributed and runcfg.get(self.cfg, "runtime.sync_bn"):
            if self.rt.device.type == "cuda":
                model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            else:
                log.warning("runtime.sync_bn needs GPUs; using per-process BatchNorm on CPU")
        return self.rt.prepare_model(model)

    def _remove_stale_outputs(self) -> None:
        """A fresh start must not leave a previous model's results looking like this run's: its
        final.pt, metrics, history and evaluation (made from weights that are being replaced)."""
        if not self.env.is_main:
            return
        stale = [self.out_dir / n for n in ("final.pt", "train_metrics.json", "history.csv")]
        stale = [p for p in stale if p.exists()]
        evaluation = self.out_dir / "eval"
        if stale or evaluation.is_dir():
            log.warning(
                "starting fresh: removing the previous model's %s",
                ", ".join([p.name for p in stale] + (["eval/"] if evaluation.is_dir() else [])),
            )
        for path in stale:
            path.unlink()
        if evaluation.is_dir():
            shutil.rmtree(evaluation)

    # -- checkpoints -----------------------------------------------------------------------
    def _resumable(self) -> bool:
        """Whether last.pt belongs to this run's identity; another one's is set aside, not lost.

        A changed protocol, re-extracted data, an edited list or new initial weights make another
        model: its checkpoint must not be resumed, and must not block the new run either. It is
        kept as ``checkpoints/set-aside-<its fingerprint>.pt`` (the newest
        ``checkpoints.keep_set_aside`` of them) and the run starts over.
        """
        if not self.last.is_file():
            return False
        old = ckpt.load(self.last).get("identity")
        changes = identity_changes(old, self.identity)
        if not changes:
            return True
        distributed.barrier()  # every rank has read last.pt before rank 0 moves it
        if self.env.is_main:
            tag = (old or {}).get("fingerprint") or f"unrecorded-{time.strftime('%Y%m%dT%H%M%S')}"
            aside = self.last.with_name(f"set-aside-{tag}.pt")
            self.last.replace(aside)
            kept = self._prune_set_aside()
            log.warning(
                "%s was made from another identity (%s): training starts fresh; %s",
                self.last,
                "; ".join(changes),
                f"the old checkpoint is kept as {aside.name}"
                if aside in kept
                else "the old checkpoint is deleted (checkpoints.keep_set_aside: 0)",
            )
        distributed.barrier()
        return False

    def _prune_set_aside(self) -> list[Path]:
        """Keep the newest ``checkpoints.keep_set_aside`` set-aside checkpoints; returns them."""
        keep = runcfg.get_int(self.cfg, "checkpoints.keep_set_aside", minimum=0)
        folder = self.last.parent
        aside = sorted(
            {p for pattern in SET_ASIDE_GLOB for p in folder.glob(pattern)},
            key=lambda p: p.stat().st_mtime_ns,
            reverse=True,
        )
        for old in aside[keep:]:
            old.unlink(missing_ok=True)
        return aside[:keep]

    def _load_last(self) -> None:
        state = ckpt.load(self.last)
        if state.get("format") != ckpt.CHECKPOINT_FORMAT:
            raise TrainingError(
                f"checkpoint {self.last} has format {state.get('format')!r}, "
                f"expected {ckpt.CHECKPOINT_FORMAT}"
            )
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as err:
            raise ModelError(f"checkpoint {self.last} does not fit the model: {err}") from err
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.start_epoch = int(state["epoch"])
        self.step_in_epoch = int(state.get("step_in_epoch", 0))
        self.partial = state.get("partial", self.partial).to(torch.float64)
        self.best_top1 = float(state.get("best_top1", float("nan")))
        self.best_epoch = int(state.get("best_epoch", 0))
        self.history = [dict(r) for r in state.get("history", [])]
        self.mlflow_run_id = state.get("mlflow_run_id")
        self.total_seconds = float(state.get("total_seconds", 0.0))
        self.skipped_before = int(state.get("skipped_clips", 0))
        self.code_resumes = [dict(r) for r in state.get("code_resumes", [])]
        if state.get("code") != self.code:
            self.code_resumes.append(
                {
                    "epoch": self.start_epoch,
                    "written_by": state.get("code"),
                    "resumed_by": self.code,
                }
            )
            log.warning(
                "%s was written by another code version (%s); resuming with %s (recorded in "
                "train_metrics.json as code_resumes)",
                self.last,
                _code_label(state.get("code")),
                _code_label(self.code),
            )
        self.init_weights = state.get(
            "init_weights"
        )  # None in a last.pt written before it was recorded
        rng = state.get("rng") or []
        if self.step_in_epoch and len(rng) == self.env.world_size:
            self.rng_states = rng
        elif self.step_in_epoch:
            log.warning(
                "resuming mid-epoch with a different world size: dropout RNG streams differ"
            )
        where = f"epoch {self.start_epoch + 1}"
        if self.step_in_epoch:
            where += f", step {self.step_in_epoch + 1}"
        log.info("resuming from %s at %s", self.last, where)

    def _save_last(self, epoch: int, step_in_epoch: int, partial: torch.Tensor) -> None:
        """Collective: every rank contributes its RNG state; rank 0 writes."""
        rng = distributed.all_gather_objects(capture_rng())
        skipped = self._skipped_clips()
        if not self.env.is_main:
            return
        state = {
            "format": ckpt.CHECKPOINT_FORMAT,
            "model": ckpt.model_state(self.model),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else {},
            "epoch": epoch,
            "step_in_epoch": step_in_epoch,
            "partial": partial.clone(),
            "rng": rng,
            "best_top1": self.best_top1,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "total_seconds": self.total_seconds,
            "mlflow_run_id": self.mlflow_run_id,
            "run_config": dict(self.cfg),
            "world_size": self.env.world_size,
            "skipped_clips": skipped,
            "identity": self.identity,
            "code": self.code,
            "code_resumes": self.code_resumes,
            "init_weights": self.init_weights,
        }
        ckpt.atomic_save(state, self.last)

    def _skipped_clips(self) -> int:
        """Collective: training clips skipped for bad frames, all ranks, all resumptions."""
        local = float(getattr(self.train_set, "skipped_clips", 0))
        total = distributed.all_reduce_sum(torch.tensor([local], device=self.rt.device))
        return self.skipped_before + int(total.item())

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        if self.env.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            runcfg.write_json(self.out_dir / "config.json", self.cfg)
        self.mlflow_run_id = self._start_tracking()
        self._track_init_weights()
        self.tracker.sync_history(self.history, EPOCH_METRICS)
        try:
            with StopFlag() as stop:
                for epoch in range(self.start_epoch, self.epochs):
                    self._run_epoch(epoch, stop)
                    if epoch + 1 < self.epochs and self._any_rank(bool(stop)):
                        # Signal during validation/saving: last.pt of this epoch is on disk.
                        raise Preempted(str(self.last), stop.signum or signal.SIGTERM)
            return self._finish()
        except Preempted:
            self.tracker.end("KILLED")
            raise
        except BaseException:
            self.tracker.end("FAILED")
            raise

    def _start_tracking(self) -> str | None:
        """Rank 0 opens the MLflow run; the others learn its id, or that it failed (no hang)."""
        run_id, error = None, None
        try:
            run_id = self.tracker.start(self.mlflow_run_id)
        except Exception as err:
            error = err
        run_id, failed = distributed.broadcast_object((run_id, error is not None))
        if error is not None:
            raise error
        if failed:
            raise TrainingError("rank 0 could not start the MLflow run (see its log)")
        return run_id

    def _track_init_weights(self) -> None:
        """Tensors loaded / inflated / left new as MLflow metrics, the whole record as a tag."""
        record = self.init_weights
        if record is None:
            return
        self.tracker.log_metrics({f"init_{k}": record[k] for k in INIT_COUNTS})
        self.tracker.set_tags({TAG_PREFIX + "init_weights": json.dumps(record)})

    def _run_epoch(self, epoch: int, stop: StopFlag) -> None:
        steps = self.sampler.steps_per_epoch
        first_step = self.step_in_epoch
        if first_step and self.rng_states is not None:
            restore_rng(self.rng_states[self.env.rank])
        else:
            seed_all(derive_seed(self.rt.seed, epoch, self.env.rank))
        self.sampler.set_epoch(epoch, skip_samples=first_step * self.accum * self.micro)
        loader = make_loader(
            SeededItems(self.train_set, self.rt.seed),
            self.sampler,
            self.micro,
            self.workers,
            self.rt.device.type == "cuda",
            seed=derive_seed(self.rt.seed, epoch, self.env.rank, 1),
        )
        # Rank 0 carries the totals of the steps done before a mid-epoch resume.
        totals = torch.zeros(4, dtype=torch.float64, device=self.rt.device)
        if self.env.is_main and first_step:
            totals += self.partial.to(self.rt.device)
        progress = Progress(
            steps,
            f"epoch {epoch + 1}/{self.epochs}",
            self.env.is_main,
            self.rt.log_interval_s,
            first_step,
        )
        self.ddp_model.train()
        started = time.monotonic()
        batches = iter(loader)
        for step in range(first_step, steps):
            lr = self.schedule.lr_at(epoch, step, steps)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            nonfinite = self._step(batches, totals)
            # One tiny all-reduce per step so every rank takes the same branch below.
            flags = torch.stack(
                [nonfinite, torch.tensor(float(bool(stop)), device=nonfinite.device)]
            )
            distributed.all_reduce_sum(flags)
            if flags[0] > 0:
                raise TrainingError(
                    f"loss is NaN/inf at epoch {epoch + 1}, iteration {step + 1} of {steps} "
                    f"(run {runcfg.get(self.cfg, 'run_id')}); the last good checkpoint {self.last} "
                    "is left as it was: lower optim.lr, enable optim.clip_grad_norm or check the data"
                )
            self._optimizer_step()
            progress.update(1, lr=lr)
            if flags[1] > 0:
                self._preempt(epoch, step + 1, totals, started, stop)
        progress.close()
        self._end_epoch(
            epoch, self.schedule.lr_at(epoch, steps - 1, steps), totals, time.monotonic() - started
        )

    def _any_rank(self, flag: bool) -> bool:
        return bool(
            distributed.all_reduce_sum(torch.tensor([float(flag)], device=self.rt.device)).item()
            > 0
        )

    def _step(self, batches: Any, totals: torch.Tensor) -> torch.Tensor:
        """``accum_steps`` forward/backward passes; returns how many losses were NaN/inf."""
        nonfinite = torch.zeros((), device=self.rt.device)
        for micro in range(self.accum):
            clips, labels, _ = next(batches)
            clips = self.on_device(self.rt.to_device(clips))
            labels = labels.to(self.rt.device, non_blocking=True)
            sync = micro == self.accum - 1 or not isinstance(
                self.ddp_model, DistributedDataParallel
            )
            context = contextlib.nullcontext() if sync else self.ddp_model.no_sync()
            with context:
                with self.rt.autocast():
                    logits = self.forward_model(clips)
                    loss = self.criterion(logits.float(), labels)
                self.scaler.scale(loss / self.accum).backward()
            with torch.no_grad():
                nonfinite += (~torch.isfinite(loss)).float()
                totals[0] += loss.detach().double() * labels.numel()
                totals[1] += (logits.argmax(dim=1) == labels).sum().double()
                totals[2] += labels.numel()
        return nonfinite

    def _optimizer_step(self) -> None:
        if self.clip_norm is not None:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)

    def _preempt(
        self, epoch: int, next_step: int, totals: torch.Tensor, started: float, stop: StopFlag
    ) -> None:
        elapsed = time.monotonic() - started
        summed = distributed.all_reduce_sum(totals.clone()).cpu()
        summed[3] += elapsed
        self.total_seconds += elapsed
        self._save_last(epoch, next_step, summed)
        distributed.barrier()
        raise Preempted(str(self.last), stop.signum or signal.SIGTERM)

    def _end_epoch(self, epoch: int, lr: float, totals: torch.Tensor, elapsed: float) -> None:
        summed = distributed.all_reduce_sum(totals).cpu()
        self.total_seconds += elapsed
        seconds = elapsed + float(summed[3])  # plus the time spent before a mid-epoch resume
        clips = float(summed[2])
        val_top1 = None
        if (epoch + 1) % self.val_every == 0 or epoch + 1 == self.epochs:
            val_top1 = validate(self.model, self.val_set, self.rt, self.eval_batch, self.workers)
            if not self.best_top1 >= val_top1:  # also true while best is NaN
                self.best_top1, self.best_epoch = val_top1, epoch + 1
        row = {
            "epoch": epoch + 1,
            "loss": float(summed[0]) / max(clips, 1.0),
            "lr": lr,
            "train_top1": 100.0 * float(summed[1]) / max(clips, 1.0),
            "val_top1": val_top1,
            "clips_per_s": clips / seconds if seconds > 0 else float("nan"),
            "epoch_seconds": seconds,
        }
        self.history.append(row)
        self.step_in_epoch = 0
        self.rng_states = None
        self._save_last(epoch + 1, 0, torch.zeros(4, dtype=torch.float64))
        if self.env.is_main:
            ckpt.atomic_write_bytes(self.out_dir / "history.csv", _history_csv(self.history))
            self.tracker.log_metrics({k: row[k] for k in EPOCH_METRICS}, step=epoch + 1)
            log.info(
                "epoch %d/%d loss %.4f train top-1 %.2f%% val top-1 %s lr %.3g %.1f clips/s",
                epoch + 1,
                self.epochs,
                row["loss"],
                row["train_top1"],
                "-" if val_top1 is None else f"{val_top1:.2f}%",
                lr,
                row["clips_per_s"],
            )
        distributed.barrier()

    def _finish(self) -> dict[str, Any]:
        final = self.history[-1] if self.history else {}
        clips_per_s = [
            r["clips_per_s"] for r in self.history if r.get("clips_per_s") == r.get("clips_per_s")
        ]
        result = {
            "epochs": self.epochs,
            "final_val_top1": final.get("val_top1"),
            "best_val_top1": None if math.isnan(self.best_top1) else self.best_top1,
            "best_epoch": self.best_epoch,
            "final_train_top1": final.get("train_top1"),
            "final_loss": final.get("loss"),
            "train_seconds": self.total_seconds,
            "clips_per_s": sum(clips_per_s) / len(clips_per_s) if clips_per_s else None,
            "world_size": self.env.world_size,
            "mlflow_run_id": self.mlflow_run_id,  # evaluation links its MLflow run under this one
            "skipped_clips": self._skipped_clips(),
            "code": self.code,
            "code_resumes": self.code_resumes,
            "identity": self.identity,
            "init_weights": self.init_weights,  # where each initial tensor came from
        }
        if result["skipped_clips"] and self.env.is_main:
            log.warning(
                "%d training clip(s) were skipped for bad frames (data.on_bad_frame: skip); "
                "run `actionbench extract --verify --deep` to find them",
                result["skipped_clips"],
            )
        if self.env.is_main:
            final_path = ckpt.final_path(self.out_dir)
            result["final"] = weights_record(
                ckpt.atomic_save(ckpt.model_state(self.model), final_path)
            )
            # also when a finished last.pt was resumed: Snakemake removed the outputs first
            ckpt.atomic_write_bytes(self.out_dir / "history.csv", _history_csv(self.history))
            runcfg.write_json(self.out_dir / "train_metrics.json", result)
            self.tracker.log_metrics(
                {k: v for k, v in result.items() if isinstance(v, (int, float))}
            )
            self.tracker.set_tags(
                {
                    "checkpoint": str(final_path),
                    "last_checkpoint": str(self.last),
                    "identity": self.identity["fingerprint"],
                    "final_sha256": result["final"]["sha256"],
                    "init_sha256": str(self.identity["init"]["sha256"]),
                    "code_resumes": str(len(self.code_resumes)),
                }
            )
            self.tracker.log_artifacts(
                [self.out_dir / n for n in ("config.json", "history.csv", "train_metrics.json")]
            )
            log.info("training of %s done: %s", runcfg.get(self.cfg, "run_id"), final_path)
        self.tracker.end("FINISHED")
        distributed.barrier()
        return result


def _code_label(code: Mapping[str, Any] | None) -> str:
    if not code:
        return "an unrecorded version"
    commit = str(code.get("git_commit") or "no git commit")[:10]
    return f"{code.get('package_version')} {commit}" + (
        " + local changes" if code.get("git_dirty") else ""
    )


def train(run_cfg: dict) -> dict:
    """Train one run to completion (resuming if a checkpoint exists); returns the final metrics.

    Raises :class:`~actionbench.engine.preemption.Preempted` after saving when SIGTERM/SIGUSR1
    arrives, :class:`~actionbench.errors.TrainingError` on a non-finite loss.
    """
    rt = Runtime.setup(run_cfg)
    try:
        return _Trainer(run_cfg, rt).run()
    finally:
        rt.close()
