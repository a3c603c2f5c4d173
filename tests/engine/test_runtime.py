"""Execution settings: mixed precision by device (auto), channels_last, torch.compile."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from actionbench.engine import runtime as rt_mod
from actionbench.engine.distributed import DistEnv
from actionbench.engine.runtime import Runtime, resolve_amp
from actionbench.errors import ConfigError
from actionbench.models import build_model
from actionbench.models.temporal.path import temporal_path


def test_amp_auto_is_bf16_or_fp16_on_gpus_and_fp32_on_cpu(monkeypatch) -> None:
    cuda = torch.device("cuda", 0)
    assert resolve_amp("auto", torch.device("cpu")) is None
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_amp("auto", cuda) is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)  # e.g. a V100
    assert resolve_amp("auto", cuda) is torch.float16
    assert resolve_amp("none", cuda) is None
    assert resolve_amp("fp16", cuda) is torch.float16


def test_explicit_amp_on_cpu_warns_and_runs_fp32(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        assert resolve_amp("bf16", torch.device("cpu")) is None
    assert "runtime.amp=bf16 is for GPUs" in caplog.text


def test_setup_defaults_to_auto_and_rejects_unknown_amp() -> None:
    rt = Runtime.setup({"runtime": {"device": "cpu"}})
    assert rt.amp_dtype is None and not rt.compile
    with pytest.raises(ConfigError, match="runtime.amp"):
        Runtime.setup({"runtime": {"device": "cpu", "amp": "fp8"}})
    with pytest.raises(ConfigError, match="runtime.compile_mode"):
        Runtime.setup({"runtime": {"device": "cpu", "compile_mode": "fast"}})


def test_params_yaml_defaults_to_auto_amp() -> None:
    from actionbench.config import load_params

    params = load_params(Path(__file__).resolve().parents[2] / "params.yaml")
    assert params["train"]["runtime"]["amp"] == "auto"
    assert params["train"]["runtime"]["compile"] is False


def _runtime(**kw) -> Runtime:
    base = dict(
        env=DistEnv(),
        device=torch.device("cpu"),
        amp_dtype=None,
        channels_last=False,
        owns_group=False,
        seed=0,
        log_interval_s=30.0,
    )
    base.update(kw)
    return Runtime(**base)


def _train_step(rt: Runtime, arch: str) -> list[torch.Tensor]:
    torch.manual_seed(0)
    model = rt.prepare_model(build_model(arch, "resnet18", 4, 3, dropout=0.0).double().train())
    clip = rt.to_device(torch.randn(2, 3, 4, 32, 32, dtype=torch.float64))
    loss = F.cross_entropy(rt.compiled(model)(clip), torch.tensor([0, 2]))
    loss.backward()
    return [loss.detach()] + [p.grad for p in model.parameters()]


@pytest.mark.parametrize(
    ("arch", "path"), [("tam", "fused"), ("tam", "batched"), ("tsm", "batched"), ("i3d", "auto")]
)
def test_channels_last_training_step_equals_contiguous(arch: str, path: str) -> None:
    """channels_last(_3d) weights and clips: same loss and gradients, on both temporal paths."""
    with temporal_path(path):
        plain = _train_step(_runtime(), arch)
        cl = _runtime(channels_last=True)
        model = cl.prepare_model(build_model(arch, "resnet18", 4, 3))
        conv = model.conv1.weight
        fmt = torch.channels_last if conv.dim() == 4 else torch.channels_last_3d
        assert conv.is_contiguous(memory_format=fmt)
        clip = cl.to_device(torch.randn(1, 3, 4, 8, 8))
        assert clip.is_contiguous(memory_format=torch.channels_last_3d)
        fast = _train_step(cl, arch)
    for a, b in zip(plain, fast, strict=True):
        torch.testing.assert_close(a, b)


def test_compile_off_returns_the_module_itself() -> None:
    model = torch.nn.Linear(2, 2)
    assert _runtime().compiled(model) is model


def test_compile_wraps_the_module_and_keeps_state_dict_keys(monkeypatch) -> None:
    """Lazy: torch.compile only wraps here (compilation happens at the first call, tested
    below under slow); the plain module keeps the checkpoint keys."""
    seen = {}
    real = torch.compile

    def spy(model, **kw):
        seen.update(kw)
        return real(model, **kw)

    monkeypatch.setattr(rt_mod.torch, "compile", spy)
    model = build_model("tsn", "resnet18", 2, 3)
    compiled = _runtime(compile=True, compile_mode="max-autotune").compiled(model)
    assert compiled is not model and getattr(compiled, "_orig_mod", None) is model
    assert seen == {"mode": "max-autotune"}
    assert not any(k.startswith("_orig_mod") for k in model.state_dict())


@pytest.mark.slow
@pytest.mark.parametrize("path", ["fused", "batched"])
def test_compiled_training_step_equals_eager(path: str) -> None:
    """torch.compile (inductor, CPU) of TAM-ResNet18: the same loss and gradients as eager.
    The fused path's custom ops stay opaque to the compiler (fake kernels give the shapes)."""
    with temporal_path(path):
        eager = _train_step(_runtime(), "tam")
        torch._dynamo.reset()
        compiled = _train_step(_runtime(compile=True), "tam")
    for a, b in zip(eager, compiled, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_trainer_with_compile_matches_eager_and_keeps_checkpoint_keys(tmp_path, tiny_factory):
    """runtime.compile in the real training loop: same final weights as eager (deterministic
    tiny run), and final.pt has the plain module's keys."""
    from actionbench.engine import checkpoint as ckpt
    from actionbench.engine.train import train

    finals = []
    for compile_on in (False, True):
        torch._dynamo.reset()
        cfg = tiny_factory.make_cfg(
            tmp_path / str(compile_on),
            tracking={"enabled": False},
            runtime={"compile": compile_on},
            schedule={"epochs": 1},
        )
        torch._dynamo.utils.counters.clear()
        train(cfg)
        graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
        assert (graphs > 0) == compile_on  # dynamo really compiled the forward (or did not)
        finals.append(torch.load(ckpt.final_path(cfg["output_dir"]), weights_only=True))
    assert finals[0].keys() == finals[1].keys()
    assert not any(k.startswith("_orig_mod") for k in finals[1])
    for k in finals[0]:
        torch.testing.assert_close(finals[0][k], finals[1][k], rtol=1e-5, atol=1e-6)
