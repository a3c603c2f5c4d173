"""The fused temporal ops equal straightforward implementations (forward and gradients), and
the temporal modules do (or do not) look at frame order."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from actionbench.models import build_model
from actionbench.models.networks.pooling import TemporalMaxPool2d, pooled_frames
from actionbench.models.temporal import ops as temporal_ops
from actionbench.models.temporal.modules import TAM, TemporalConv, TemporalShift, select_locations

# ------------------------------------------------------------------ reference implementations


def tam_reference(x: torch.Tensor, weight: torch.Tensor, t: int) -> torch.Tensor:
    """The reference code's TAM: three depthwise 1x1 convs, shifted with zero padding, summed."""
    n, c, h, w = x.shape
    taps = [F.conv2d(x, weight[:, k].view(c, 1, 1, 1), groups=c) for k in range(3)]
    taps = [y.view(n // t, t, c, h, w) for y in taps]
    prev = F.pad(taps[0], (0, 0, 0, 0, 0, 0, 1, 0))[:, :-1]
    nxt = F.pad(taps[2], (0, 0, 0, 0, 0, 0, 0, 1))[:, 1:]
    return torch.relu(prev + taps[1] + nxt).reshape(n, c, h, w)


def tsm_reference(x: torch.Tensor, t: int, fold_div: int = 8) -> torch.Tensor:
    """TSM's published shift, written with slices into a zero tensor."""
    n, c, h, w = x.shape
    fold = c // fold_div
    x5 = x.view(n // t, t, c, h, w)
    out = torch.zeros_like(x5)
    out[:, :-1, :fold] = x5[:, 1:, :fold]
    out[:, 1:, fold : 2 * fold] = x5[:, :-1, fold : 2 * fold]
    out[:, :, 2 * fold :] = x5[:, :, 2 * fold :]
    return out.view(n, c, h, w)


def tconv_reference(x: torch.Tensor, weight: torch.Tensor, t: int) -> torch.Tensor:
    """A dense Conv3d with a (3, 1, 1) kernel over (B, C, T, H, W), then ReLU."""
    n, c, h, w = x.shape
    x5 = x.view(n // t, t, c, h, w).transpose(1, 2)
    y = F.conv3d(x5, weight.view(c, c, 3, 1, 1), padding=(1, 0, 0))
    return torch.relu(y).transpose(1, 2).reshape(n, c, h, w)


def _grads(fn, *inputs):
    torch.manual_seed(1)
    out = fn(*inputs)
    g = torch.randn_like(out)
    return [out, *torch.autograd.grad(out, inputs, g)]


# ------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("t", [1, 2, 5])
@pytest.mark.parametrize("chunk", [None, 40])  # default planning / one clip per step
def test_tam_matches_reference(t: int, chunk, monkeypatch) -> None:
    if chunk:
        monkeypatch.setattr(temporal_ops, "_CHUNK_ELEMS", chunk)
    torch.manual_seed(0)
    x = torch.randn(3 * t, 6, 4, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    fast = _grads(lambda a, b: temporal_ops.tam(a, b, t), x, w)
    ref = _grads(lambda a, b: tam_reference(a, b, t), x, w)
    for a, b in zip(fast, ref, strict=True):
        torch.testing.assert_close(a, b)


def test_tam_gradcheck() -> None:
    torch.manual_seed(0)
    x = torch.randn(2 * 3, 4, 2, 3, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: temporal_ops.tam(a, b, 3), (x, w))


def test_tam_float32_matches_reference() -> None:
    torch.manual_seed(0)
    x = torch.randn(2 * 8, 16, 7, 7, requires_grad=True)
    w = torch.randn(16, 3, requires_grad=True)
    fast = _grads(lambda a, b: temporal_ops.tam(a, b, 8), x, w)
    ref = _grads(lambda a, b: tam_reference(a, b, 8), x, w)
    for a, b in zip(fast, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("t", [1, 4])
def test_tsm_matches_reference(t: int) -> None:
    torch.manual_seed(0)
    x = torch.randn(2 * t, 16, 3, 3, dtype=torch.float64, requires_grad=True)
    fast = _grads(lambda a: temporal_ops.temporal_shift(a, t, 8), x)
    ref = _grads(lambda a: tsm_reference(a, t), x)
    for a, b in zip(fast, ref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("t", [1, 4])
def test_tconv_matches_dense_conv3d(t: int) -> None:
    torch.manual_seed(0)
    module = TemporalConv(6, t).double()
    x = torch.randn(2 * t, 6, 3, 2, dtype=torch.float64, requires_grad=True)
    fast = _grads(lambda a, w: _run(module, a, w), x, module.weight)
    ref = _grads(lambda a, w: tconv_reference(a, w, t), x, module.weight)
    for a, b in zip(fast, ref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("t", [1, 2, 5])
def test_tam_fused_with_1x1_conv_matches_unfused(t: int) -> None:
    torch.manual_seed(0)
    x = torch.randn(2 * t, 6, 3, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    cw = torch.randn(5, 6, 1, 1, dtype=torch.float64, requires_grad=True)
    fast = _grads(lambda a, b, c: temporal_ops.tam_conv1x1(a, b, c, t), x, w, cw)
    ref = _grads(lambda a, b, c: F.conv2d(tam_reference(a, b, t), c), x, w, cw)
    for a, b in zip(fast, ref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(("t", "c"), [(1, 16), (4, 16), (3, 5)])  # c < 8: nothing shifted
def test_tsm_fused_with_1x1_conv_matches_unfused(t: int, c: int) -> None:
    torch.manual_seed(0)
    x = torch.randn(2 * t, c, 3, 2, dtype=torch.float64, requires_grad=True)
    cw = torch.randn(7, c, 1, 1, dtype=torch.float64, requires_grad=True)
    fast = _grads(lambda a, b: temporal_ops.tsm_conv1x1(a, b, t, 8), x, cw)
    ref = _grads(lambda a, b: F.conv2d(tsm_reference(a, t), b), x, cw)
    for a, b in zip(fast, ref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("arch", ["tam", "tsm"])
def test_bottleneck_uses_the_fused_path_on_cpu(arch: str, monkeypatch) -> None:
    """TAM/TSM-ResNet50 blocks go through the fused op on CPU and give the same model output
    and gradients as the module followed by the conv."""
    torch.manual_seed(0)
    model = build_model(arch, "resnet50", 2, 3).double()
    block = model.layer1[1]
    x = torch.rand(2 * 2, 256, 6, 6, dtype=torch.float64, requires_grad=True)
    calls = []
    name = f"{arch}_conv1x1"
    fused = getattr(temporal_ops, name)
    monkeypatch.setattr(temporal_ops, name, lambda *a: calls.append(1) or fused(*a))
    fast = _grads(block, x)
    assert calls
    block.temporal.then_conv = None  # falls back to conv(temporal(x))
    ref = _grads(block, x)
    for a, b in zip(fast, ref, strict=True):
        torch.testing.assert_close(a, b)


def _run(module, x, weight):
    assert weight is module.weight
    return module(x)


def test_module_parameter_counts() -> None:
    assert sum(p.numel() for p in TAM(64, 8).parameters()) == 3 * 64
    assert sum(p.numel() for p in TemporalShift(64, 8).parameters()) == 0
    assert sum(p.numel() for p in TemporalConv(64, 8).parameters()) == 3 * 64 * 64


def test_temporal_max_pool_folded_matches_3d() -> None:
    torch.manual_seed(0)
    for t in (1, 2, 5, 8):
        x = torch.randn(3 * t, 4, 2, 3)
        got = TemporalMaxPool2d(t)(x)
        x5 = x.view(3, t, 4, 2, 3).transpose(1, 2)
        want = (
            F.max_pool3d(x5, (3, 1, 1), (2, 1, 1), (1, 0, 0)).transpose(1, 2).reshape(-1, 4, 2, 3)
        )
        torch.testing.assert_close(got, want)
        assert got.shape[0] == 3 * pooled_frames(t)


def test_locations_of_table6() -> None:
    assert select_locations(8, "all") == list(range(8))
    assert select_locations(8, "top_half") == [4, 5, 6, 7]
    assert select_locations(8, "bottom_half") == [0, 1, 2, 3]
    assert select_locations(8, "uniform_half") == [1, 3, 5, 7]


@pytest.mark.parametrize("where", ["all", "top_half", "bottom_half", "uniform_half"])
def test_tam_locations_in_resnet18(where: str) -> None:
    model = build_model("tam", "resnet18", 4, 3, tam_locations=where)
    blocks = [
        b for layer in (model.layer1, model.layer2, model.layer3, model.layer4) for b in layer
    ]
    has = [b.temporal is not None for b in blocks]
    assert sum(has) == (8 if where == "all" else 4)
    assert [i for i, h in enumerate(has) if h] == select_locations(8, where)


def test_tam_r18_adds_exactly_4416_parameters() -> None:
    tsn = build_model("tsn", "resnet18", 8, 87)
    tam = build_model("tam", "resnet18", 8, 87)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(tam) - count(tsn) == 4416 == 3 * (64 + 64 + 64 + 128 + 128 + 256 + 256 + 512)


def _shuffle_frames(clip: torch.Tensor) -> torch.Tensor:
    perm = torch.tensor([3, 0, 5, 1, 7, 2, 6, 4])
    return clip[:, :, perm]


@pytest.mark.parametrize(("arch", "order_matters"), [("tsn", False), ("tam", True), ("tsm", True)])
def test_shuffled_frames(arch: str, order_matters: bool) -> None:
    torch.manual_seed(0)
    model = build_model(arch, "resnet18", 8, 5).eval()
    clip = torch.randn(2, 3, 8, 48, 48)
    with torch.no_grad():
        a, b = model(clip), model(_shuffle_frames(clip))
    if order_matters:
        assert not torch.allclose(a, b, rtol=1e-4, atol=1e-5)
    else:
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
