"""Initialising from local torchvision-format 2D state dicts: direct loading, inflation, and a
report that puts every key in the right bucket."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from actionbench.errors import ModelError
from actionbench.models import build_model, load_pretrained


def _randomise_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BN statistics and affine parameters, so equality tests mean something."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=g) * 0.1)
    return model


@pytest.fixture(scope="module")
def resnet18_sd() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return _randomise_bn(torchvision.models.resnet18(num_classes=7)).state_dict()


@pytest.fixture(scope="module")
def googlenet_sd() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    net = torchvision.models.googlenet(num_classes=7, aux_logits=True, init_weights=True)
    return _randomise_bn(net).state_dict()


def _replicate_padding(model: nn.Module) -> nn.Module:
    """Pad every convolution by replication instead of zeros (test only).

    With zero padding, frames at the clip ends see fewer than kt valid frames, so even a
    mean-inflated 3D network does not reproduce its 2D network on a static clip; padding by
    replication removes exactly that boundary effect and nothing else."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Conv3d) and any(p > 0 for p in m.padding):
            m.padding_mode = "replicate"
    return model


@pytest.mark.parametrize(
    ("backbone", "tp"),
    [
        ("resnet18", False),
        ("resnet18", True),
        ("inceptionv1", False),
        pytest.param("resnet50", False, marks=pytest.mark.slow),
    ],
)
def test_mean_inflation_reproduces_2d_on_static_clip(backbone, tp, resnet18_sd, googlenet_sd):
    if backbone == "resnet18":
        sd = resnet18_sd
    elif backbone == "inceptionv1":
        sd = googlenet_sd
    else:
        torch.manual_seed(0)
        sd = _randomise_bn(torchvision.models.resnet50(num_classes=7)).state_dict()
    frames = 4
    # the reference layout's I3D-InceptionV1 pools are padded where GoogLeNet's use ceil mode
    # (another spatial grid), so only the paper layout's is the 2D network on a static clip
    layout = "paper" if backbone == "inceptionv1" else "reference"
    tsn = build_model("tsn", backbone, frames, 7, temporal_pooling=tp)
    i3d = build_model("i3d", backbone, frames, 7, temporal_pooling=tp, layout=layout)
    assert not load_pretrained(tsn, sd).new  # same fc size: everything comes from sd
    report = load_pretrained(i3d, sd, inflation="mean")
    assert not report.new and report.inflated
    tsn, i3d = _replicate_padding(tsn).eval(), _replicate_padding(i3d).eval()
    torch.manual_seed(1)
    frame = torch.randn(2, 3, 1, 64, 64)
    clip = frame.expand(-1, -1, frames, -1, -1).contiguous()
    with torch.no_grad():
        torch.testing.assert_close(i3d(clip), tsn(clip), rtol=1e-4, atol=1e-4)


def test_copy_inflation_repeats_kernels(resnet18_sd) -> None:
    model = build_model("i3d", "resnet18", 8, 7, pretrained=None)
    report = load_pretrained(model, resnet18_sd, inflation="copy")
    w3 = model.layer1[0].conv1.weight
    w2 = resnet18_sd["layer1.0.conv1.weight"]
    assert w3.shape == (64, 64, 3, 3, 3)
    for t in range(3):
        torch.testing.assert_close(w3[:, :, t], w2)
    assert "layer1.0.conv1.weight" in report.inflated
    assert "conv1.weight" in report.inflated  # the 3x7x7 stem
    assert "layer1.0.bn1.running_var" in report.loaded
    assert "fc.weight" in report.loaded


def test_report_for_tam_with_another_class_count(resnet18_sd) -> None:
    model = build_model("tam", "resnet18", 8, 5)
    report = load_pretrained(model, resnet18_sd)
    tam_keys = {k for k in model.state_dict() if ".temporal." in k}
    assert len(tam_keys) == 8
    assert set(report.new) == tam_keys | {"fc.weight", "fc.bias"}
    assert {m[0] for m in report.mismatched} == {"fc.weight", "fc.bias"}
    assert ("fc.weight", (5, 512), (7, 512)) in report.mismatched
    assert report.unexpected == []
    assert not report.inflated
    assert len(report.loaded) == len(resnet18_sd) - 2
    torch.testing.assert_close(model.layer3[1].conv2.weight, resnet18_sd["layer3.1.conv2.weight"])
    assert "5 new" not in report.summary() and "10 new" in report.summary()


def test_report_for_s3d(resnet18_sd) -> None:
    model = build_model("s3d", "resnet18", 8, 7)
    report = load_pretrained(model, resnet18_sd)
    assert "layer2.0.conv1.weight" in report.inflated  # spatial 1x3x3 part keeps 2D weights
    assert model.layer2[0].conv1.weight.shape[2] == 1
    assert "layer2.0.conv1_t.weight" in report.new
    assert "layer2.0.bn1_t.running_mean" in report.new
    assert not report.mismatched and not report.unexpected


def test_report_for_googlenet_aux_heads(googlenet_sd) -> None:
    model = build_model("tam", "inceptionv1", 8, 7)
    report = load_pretrained(model, googlenet_sd)
    assert report.unexpected and all(k.startswith(("aux1.", "aux2.")) for k in report.unexpected)
    assert all(k.startswith("temporal.") for k in report.new)
    assert "inception4e.branch3.1.conv.weight" in report.loaded


def test_slowfast_gets_what_fits(tmp_path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "r50.pth"
    torch.save(torchvision.models.resnet50(num_classes=7).state_dict(), path)
    model = build_model("slowfast", "resnet50", 8, 7, pretrained=path)
    report = model.load_report
    assert "slow.layer1.1.conv2.weight" in report.inflated
    assert "slow.layer3.1.conv1.weight" in report.inflated  # 3x1x1 in res4 of the slow path
    assert "slow.layer1.0.conv1.weight" in {m[0] for m in report.mismatched}  # 64 + 16 inputs
    assert all(k.startswith("slow.") or k in report.new for k in report.loaded + report.inflated)
    assert any(k.startswith("fast.") for k in report.new)
    assert "fc.weight" in report.unexpected


def test_load_from_path_via_build_model(tmp_path, resnet18_sd) -> None:
    path = tmp_path / "resnet18.pth"
    torch.save(resnet18_sd, path)
    model = build_model("i3d", "resnet18", 8, 7, pretrained=path, inflation="mean")
    assert model.load_report.source == str(path)
    assert model.load_report.inflation == "mean"
    torch.testing.assert_close(
        model.layer4[1].conv2.weight.sum(2), resnet18_sd["layer4.1.conv2.weight"]
    )


def test_checkpoint_container_and_module_prefix(tmp_path, resnet18_sd) -> None:
    path = tmp_path / "wrapped.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in resnet18_sd.items()}}, path)
    report = load_pretrained(build_model("tsn", "resnet18", 8, 7), path)
    assert not report.new and not report.unexpected


def test_bad_files(tmp_path) -> None:
    with pytest.raises(ModelError, match="not found"):
        load_pretrained(build_model("tsn", "resnet18", 8, 7), tmp_path / "missing.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="cannot read"):
        load_pretrained(build_model("tsn", "resnet18", 8, 7), junk)
    other = tmp_path / "other.pth"
    torch.save({"w": torch.zeros(1)}, other)
    with pytest.raises(ModelError, match="no key"):
        load_pretrained(build_model("tsn", "resnet18", 8, 7), other)
