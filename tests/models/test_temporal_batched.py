"""The batched (accelerator) path of TAM / TSM / the dense temporal conv: chosen by device,
forceable on CPU, a handful of kernels per module, and numerically the CPU path."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from actionbench.measure.opcount import OpCounter, count_training_step
from actionbench.models import build_model
from actionbench.models.temporal import batched as temporal_batched
from actionbench.models.temporal import ops as temporal_ops
from actionbench.models.temporal.path import (
    ENV_VAR,
    configured_path,
    set_temporal_path,
    temporal_path,
    use_batched,
)

_COUNTS: dict[tuple, OpCounter] = {}


def count_train_step(arch: str, frames: int = 2, batch: int = 1) -> OpCounter:
    """Ops of one training step (forward, loss, backward) of ``arch``-ResNet50 at 32 px on the
    path in force, after one untimed step (steady state: TSM's shift indices are cached)."""
    key = (arch, frames, batch, use_batched(torch.device("cpu")))
    if key in _COUNTS:
        return _COUNTS[key]
    torch.manual_seed(0)
    model = build_model(arch, "resnet50", frames, 3)
    clip = torch.randn(batch, 3, frames, 32, 32)
    counter = count_training_step(model, clip, torch.zeros(batch, dtype=torch.long))
    _COUNTS[key] = counter
    return counter


@pytest.fixture(scope="module")
def tsn_ops() -> OpCounter:
    return count_train_step("tsn")


@pytest.mark.parametrize("arch", ["tam", "tsm", "tconv"])
def test_batched_training_step_op_count_within_1_2x_tsn(arch: str, tsn_ops) -> None:
    with temporal_path("batched"):
        ops = count_train_step(arch)
    assert not ops.custom(), "the batched path must not hide work in custom ops"
    ratio = ops.kernels / tsn_ops.kernels
    assert ratio <= 1.2, f"{arch}: {ops.kernels} kernel ops vs TSN's {tsn_ops.kernels}"


@pytest.mark.parametrize("arch", ["tam", "tsm", "tconv"])
def test_batched_op_count_does_not_grow_with_frames_or_batch(arch: str) -> None:
    """No Python loop over frames or clips: the same ops at T=2, B=1 and at T=4, B=2, up to
    the layout copies the convolution library may ask for (a constant number per module)."""
    with temporal_path("batched"):
        small = count_train_step(arch, frames=2, batch=1)
        large = count_train_step(arch, frames=4, batch=2)
    layout = {torch.ops.aten.clone.default, torch.ops.aten._unsafe_view.default}

    def compute(c: OpCounter) -> dict:
        return {k: v for k, v in c.ops.items() if not k.is_view and k not in layout}

    assert compute(small) == compute(large)
    extra = sum(large.ops[k] - small.ops[k] for k in layout)
    # layout ops only: ResNet50 has 16 temporal modules (a copy forward, a reshape backward),
    # and the folded head's reshape may copy too
    assert extra <= 2 * 16 + 4
    # ... while the CPU path's per-frame loops grow with T and B
    with temporal_path("fused"):
        fused_small, fused_large = count_train_step(arch, 2, 1), count_train_step(arch, 4, 2)
    assert fused_large.kernels > fused_small.kernels > small.kernels


def _step(model, clip, labels):
    model.zero_grad(set_to_none=True)
    logits = model(clip)
    F.cross_entropy(logits, labels).backward()
    return [logits.detach()] + [p.grad.clone() for p in model.parameters() if p.grad is not None]


@pytest.mark.parametrize("arch", ["tam", "tsm", "tconv"])
def test_batched_model_equals_cpu_path(arch: str) -> None:
    """Whole ResNet50 training step in float64 (in float32 batch norm over 1x1 maps at 32 px
    turns rounding into visible gradient noise): same logits and the same gradient of every
    parameter on both paths."""
    torch.manual_seed(0)
    model = build_model(arch, "resnet50", 3, 4, dropout=0.0).double().train()
    clip = torch.randn(2, 3, 3, 32, 32, dtype=torch.float64)
    labels = torch.tensor([1, 3])
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with temporal_path("fused"):
        cpu = _step(model, clip, labels)
    model.load_state_dict(state)  # BN running stats back to the start
    with temporal_path("batched"):
        batched = _step(model, clip, labels)
    assert len(cpu) == len(batched) > 1
    for a, b in zip(cpu, batched, strict=True):
        torch.testing.assert_close(a, b)


def _grads(fn, *inputs):
    torch.manual_seed(1)
    out = fn(*inputs)
    return [out, *torch.autograd.grad(out, inputs, torch.randn_like(out))]


@pytest.mark.parametrize("t", [1, 2, 5])
@pytest.mark.parametrize("fmt", [torch.contiguous_format, torch.channels_last])
def test_batched_ops_equal_fused_ops(t: int, fmt) -> None:
    torch.manual_seed(0)
    x = torch.randn(2 * t, 16, 3, 4, dtype=torch.float64)
    x = x.contiguous(memory_format=fmt).requires_grad_()
    w_tam = torch.randn(16, 3, dtype=torch.float64, requires_grad=True)
    w_conv = torch.randn(16, 16, 3, dtype=torch.float64, requires_grad=True)
    pairs = [
        (lambda a, w: temporal_batched.tam(a, w, t), lambda a, w: temporal_ops.tam(a, w, t), w_tam),
        (
            lambda a, w: temporal_batched.temporal_conv(a, w, t),
            lambda a, w: temporal_ops.temporal_conv(a, w, t),
            w_conv,
        ),
    ]
    for batched, fused, w in pairs:
        for a, b in zip(_grads(batched, x, w), _grads(fused, x, w), strict=True):
            torch.testing.assert_close(a, b)
    shift = _grads(lambda a: temporal_batched.temporal_shift(a, t, 8), x)
    ref = _grads(lambda a: temporal_ops.temporal_shift(a, t, 8), x)
    for a, b in zip(shift, ref, strict=True):
        torch.testing.assert_close(a, b)


def test_batched_tam_under_channels_last_hands_the_conv_a_channels_last_3d_view() -> None:
    """Under channels_last the (B, C, T, H, W) view is channels_last_3d, so the convolution
    gets its preferred layout without a copy; the fold back copies only if the library chose
    another output layout (oneDNN keeps it, some deterministic CPU kernels do not)."""
    x = torch.randn(2 * 4, 8, 5, 5).contiguous(memory_format=torch.channels_last)
    assert temporal_batched._clip_view(x, 4).is_contiguous(memory_format=torch.channels_last_3d)
    w = torch.randn(8, 3)
    counter = OpCounter()
    with counter:
        y = temporal_batched.tam(x, w, 4)
    kernels = {str(op) for op in counter.ops if not op.is_view}
    assert kernels <= {"aten.convolution.default", "aten.relu_.default", "aten.clone.default"}
    if y.is_contiguous(memory_format=torch.channels_last):
        assert "aten.clone.default" not in kernels
    torch.testing.assert_close(y, temporal_ops.tam(x, w, 4))


def test_shift_gradcheck() -> None:
    x = torch.randn(2 * 3, 16, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: temporal_batched.temporal_shift(a, 3, 8), (x,))


def test_bad_frame_count_names_the_problem() -> None:
    with pytest.raises(ValueError, match="num_frames=4"):
        temporal_batched.tam(torch.randn(6, 4, 2, 2), torch.randn(4, 3), 4)
    with pytest.raises(ValueError, match="num_frames=4"):
        temporal_batched.temporal_shift(torch.randn(6, 16, 2, 2), 4, 8)


def test_path_is_chosen_by_device_and_forceable(monkeypatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert not use_batched(torch.device("cpu"))
    assert not use_batched(torch.device("meta"))  # FLOP counting keeps the formula-carrying ops
    assert use_batched(torch.device("cuda", 0))
    monkeypatch.setenv(ENV_VAR, "batched")
    assert use_batched(torch.device("cpu"))
    with temporal_path("fused"):  # code beats the environment
        assert not use_batched(torch.device("cuda"))
    assert configured_path() == "batched"
    monkeypatch.setenv(ENV_VAR, "gpu")
    with pytest.raises(ValueError, match=ENV_VAR):
        use_batched(torch.device("cpu"))
    with pytest.raises(ValueError, match="temporal path"):
        set_temporal_path("fast")


@pytest.mark.parametrize("arch", ["tam", "tsm", "tconv"])
def test_modules_dispatch_to_the_forced_path(arch: str, monkeypatch) -> None:
    """On CPU the module calls the fused ops by default and the batched ones when forced."""
    calls: list[str] = []
    for mod, tag in ((temporal_batched, "batched"), (temporal_ops, "fused")):
        for name in ("tam", "temporal_shift", "temporal_conv", "tam_conv1x1", "tsm_conv1x1"):
            if hasattr(mod, name):
                fn = getattr(mod, name)
                monkeypatch.setattr(
                    mod, name, lambda *a, _f=fn, _t=tag, **k: calls.append(_t) or _f(*a, **k)
                )
    model = build_model(arch, "resnet50", 2, 3).eval()
    clip = torch.randn(1, 3, 2, 32, 32)
    with torch.no_grad():
        model(clip)
        assert set(calls) == {"fused"}
        calls.clear()
        with temporal_path("batched"):
            model(clip)
    assert set(calls) == {"batched"}
