"""Per-process execution settings shared by training and evaluation (``runtime.*`` keys).

One place decides the device, the process group, mixed precision and memory format, so a
train job and the eval job of the same run compute the same way.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from actionbench.engine import distributed, runcfg
from actionbench.engine.distributed import DistEnv
from actionbench.engine.seed import configure_determinism, seed_all

log = logging.getLogger(__name__)

AMP_DTYPES = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}
AMP_CHOICES = ("auto", *AMP_DTYPES)
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """``runtime.amp`` -> autocast dtype. ``auto`` (the default): bf16 on GPUs that support it,
    else fp16 (the trainer then scales the loss with a GradScaler), float32 on CPU and other
    devices. An explicit bf16/fp16 off a GPU falls back to float32 with a warning."""
    if amp == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    dtype = AMP_DTYPES[amp]
    if dtype is not None and device.type != "cuda":
        log.warning("runtime.amp=%s is for GPUs; running in float32 on %s", amp, device)
        return None
    return dtype


@dataclass
class Runtime:
    env: DistEnv
    device: torch.device
    amp_dtype: torch.dtype | None
    channels_last: bool
    owns_group: bool
    seed: int
    log_interval_s: float
    compile: bool = False
    compile_mode: str = "default"

    @classmethod
    def setup(cls, cfg: Mapping[str, Any]) -> Runtime:
        threads = runcfg.get(cfg, "runtime.threads")
        if threads:
            torch.set_num_threads(int(threads))
        configure_determinism(bool(runcfg.get(cfg, "runtime.deterministic")))
        seed = runcfg.get_int(cfg, "runtime.seed")
        seed_all(seed)
        had_group = distributed.active()
        env, device = distributed.init(
            runcfg.get(cfg, "runtime.device"), float(runcfg.get(cfg, "runtime.dist_timeout_s"))
        )
        amp = runcfg.get_choice(cfg, "runtime.amp", AMP_CHOICES)
        amp_dtype = resolve_amp(amp, device)
        log.info("mixed precision: %s on %s", amp_dtype or "float32", device)
        return cls(
            env=env,
            device=device,
            amp_dtype=amp_dtype,
            channels_last=bool(runcfg.get(cfg, "runtime.channels_last")),
            owns_group=distributed.active() and not had_group,
            seed=seed,
            log_interval_s=float(runcfg.get(cfg, "runtime.log_interval_s")),
            compile=bool(runcfg.get(cfg, "runtime.compile")),
            compile_mode=runcfg.get_choice(cfg, "runtime.compile_mode", COMPILE_MODES),
        )

    def close(self) -> None:
        if self.owns_group:
            distributed.shutdown()

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def prepare_model(self, model: nn.Module) -> nn.Module:
        """Move to the device; channels_last(_3d) weights for faster convolutions on GPUs."""
        model = model.to(self.device)
        if self.channels_last:
            for tensor in list(model.parameters()) + list(model.buffers()):
                fmt = _memory_format(tensor)
                if fmt is not None:
                    tensor.data = tensor.data.contiguous(memory_format=fmt)
        return model

    def compiled(self, model: nn.Module) -> nn.Module:
        """``torch.compile(model)`` when ``runtime.compile`` is on, else ``model``.

        Only the module that runs forward passes is compiled (the DDP wrapper in training):
        weights, optimizer and checkpoints keep using the plain module, so checkpoint keys
        do not change (no ``_orig_mod.`` prefix)."""
        if not self.compile:
            return model
        log.info("torch.compile(mode=%s)", self.compile_mode)
        return torch.compile(
            model, mode=None if self.compile_mode == "default" else self.compile_mode
        )

    def to_device(self, clips: torch.Tensor) -> torch.Tensor:
        clips = clips.to(self.device, non_blocking=True)
        if self.channels_last:
            fmt = _memory_format(clips)
            if fmt is not None:
                clips = clips.contiguous(memory_format=fmt)
        return clips


def _memory_format(tensor: torch.Tensor) -> torch.memory_format | None:
    return {4: torch.channels_last, 5: torch.channels_last_3d}.get(tensor.dim())
