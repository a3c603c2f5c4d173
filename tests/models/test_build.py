"""Every supported (arch, backbone, tp) builds, runs forward and backward, and learns from its
first layer on; unsupported combinations fail with a ModelError that says what is supported."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from actionbench.errors import ModelError
from actionbench.models import build_model, get_arch, list_archs, list_models

FAST_BACKBONES = {"resnet18", "inceptionv1"}


def _case(arch: str, backbone: str, tp: bool):
    marks = [] if backbone in FAST_BACKBONES else [pytest.mark.slow]
    return pytest.param(
        arch, backbone, tp, marks=marks, id=f"{arch}-{backbone}{'-tp' if tp else ''}"
    )


def first_conv(model: nn.Module) -> nn.Module:
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Conv3d))


@pytest.mark.parametrize(("arch", "backbone", "tp"), [_case(*c) for c in list_models()])
def test_forward_backward(arch: str, backbone: str, tp: bool) -> None:
    torch.manual_seed(0)
    frames, classes = 8, 3
    model = build_model(arch, backbone, frames, classes, temporal_pooling=tp)
    clip = torch.randn(2, 3, frames, 64, 64)
    logits = model(clip)
    assert logits.shape == (2, classes)
    assert torch.isfinite(logits).all()
    logits.logsumexp(1).sum().backward()
    grad = first_conv(model).weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert model.config["name"] == f"{arch}-{backbone}{'-tp' if tp else ''}"


def test_every_arch_of_the_paper_is_registered() -> None:
    assert set(list_archs()) == {
        "tsn",
        "tam",
        "tsm",
        "tconv",
        "i3d",
        "s3d",
        "nln",
        "i3d_se",
        "slowfast",
    }
    combos = set(list_models())
    # the 288-model grid of section 6.1: 4 architectures x 3 backbones x tp on/off
    for arch in ("tsn", "tam", "i3d", "s3d"):
        for backbone in ("inceptionv1", "resnet18", "resnet50"):
            for tp in (False, True):
                assert (arch, backbone, tp) in combos
    # Table 5 / 10, Figure 7, Table 8
    for combo in [
        ("tconv", "inceptionv1", False),
        ("tconv", "resnet50", False),
        ("tsm", "resnet50", False),
        ("nln", "resnet50", False),
        ("i3d_se", "resnet50", False),
        ("slowfast", "resnet50", False),
        ("tsn", "resnet50", True),
    ]:
        assert combo in combos


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (dict(arch="tsm", backbone="inceptionv1"), "tsm supports backbones resnet18"),
        (dict(arch="nln", backbone="resnet18"), "nln supports backbones resnet50"),
        (dict(arch="slowfast", backbone="resnet18"), "slowfast supports backbones resnet50"),
        (dict(arch="slowfast", backbone="resnet50", temporal_pooling=True), "temporal_pooling"),
        (dict(arch="i3d_se", backbone="inceptionv1"), "i3d_se supports backbones"),
        (dict(arch="c3d", backbone="resnet50"), "unknown architecture 'c3d'"),
        (dict(arch="tam", backbone="vgg16"), "unknown backbone 'vgg16'"),
        (dict(arch="i3d", backbone="resnet18", tam_locations="top_half"), "tam_locations"),
        (dict(arch="tam", backbone="resnet18", tam_locations="middle"), "tam_locations"),
        (dict(arch="tam", backbone="resnet18", num_frames=0), "num_frames"),
        (dict(arch="i3d", backbone="resnet18", inflation="zero"), "inflation"),
        (dict(arch="slowfast", backbone="resnet50", num_frames=6), "divisible by 4"),
    ],
)
def test_unsupported_combinations_raise(kwargs: dict, fragment: str) -> None:
    args = dict(num_frames=8, num_classes=3) | kwargs
    with pytest.raises(ModelError, match=fragment):
        build_model(**args)


def test_error_names_arch_and_backbone() -> None:
    with pytest.raises(ModelError) as err:
        build_model("tsm", "inceptionv1", 8, 3)
    assert "arch='tsm'" in str(err.value) and "backbone='inceptionv1'" in str(err.value)


def test_2d_model_checks_clip_length() -> None:
    model = build_model("tam", "resnet18", 4, 3)
    with pytest.raises(ValueError, match="built for 4 frames"):
        model(torch.randn(1, 3, 8, 32, 32))


def test_3d_models_accept_any_length() -> None:
    model = build_model("i3d", "resnet18", 8, 3).eval()
    for t in (1, 3, 16):
        assert model(torch.randn(1, 3, t, 32, 32)).shape == (1, 3)


def test_temporal_pooling_shrinks_time_inside_2d_nets() -> None:
    model = build_model("tsn", "resnet18", 8, 3, temporal_pooling=True)
    assert model.stage_frames == (8, 4, 2, 1)
    seen = []

    def hook(module, inputs, output) -> None:
        seen.append(output.shape[0])

    model.layer4.register_forward_hook(hook)
    model(torch.randn(2, 3, 8, 32, 32))
    assert seen == [2 * 1]  # B * T'
    assert get_arch("tsn").is_3d is False and get_arch("i3d").is_3d is True


def test_dropout_before_fc() -> None:
    model = build_model("tsn", "resnet18", 2, 3, dropout=0.3)
    assert model.dropout.p == 0.3
    names = [n for n, _ in model.named_children()]
    assert names.index("dropout") == names.index("fc") - 1
