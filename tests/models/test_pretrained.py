"""Initialising from local torchvision-format 2D state dicts: direct loading, inflation, a report
that puts every key in the right bucket, and files that do not fit refused in one line."""

from __future__ import annotations

import re

import pytest
import torch
import torchvision
from torch import nn

from actionbench.errors import ModelError
from actionbench.models import build_model, get_arch, list_archs, load_pretrained
from actionbench.models.backbone_keys import backbone_keys, identify
from actionbench.models.nonlocal_block import NonLocalBlock
from actionbench.models.se import SqueezeExcitation3d
from actionbench.models.slowfast import Lateral
from actionbench.models.temporal import TAM, TemporalConv, TemporalShift
from actionbench.spec import BACKBONES, LAYOUTS


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


@pytest.fixture(scope="module")
def imagenet_sds() -> dict[str, dict[str, torch.Tensor]]:
    """A torchvision ImageNet-shaped state dict (1000 classes) per backbone, random values."""
    torch.manual_seed(0)
    return {
        "resnet18": torchvision.models.resnet18(weights=None).state_dict(),
        "resnet50": torchvision.models.resnet50(weights=None).state_dict(),
        "inceptionv1": torchvision.models.googlenet(
            weights=None, aux_logits=True, init_weights=False
        ).state_dict(),
    }


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
    assert report.unused == ["fc.weight", "fc.bias"]  # the 7-class head the model replaced
    assert not report.inflated
    assert len(report.loaded) == len(resnet18_sd) - 2
    torch.testing.assert_close(model.layer3[1].conv2.weight, resnet18_sd["layer3.1.conv2.weight"])
    assert "10 new" in report.summary()
    assert report.to_record() == {
        "kind": "imagenet",
        "source": "<state dict>",
        "inflation": "copy",
        "loaded": 120,
        "inflated": 0,
        "new": 10,
        "new_keys_sample": report.new[:10],
        "unused_source_keys": 2,
    }


def test_report_for_s3d(resnet18_sd) -> None:
    model = build_model("s3d", "resnet18", 8, 7)
    report = load_pretrained(model, resnet18_sd)
    assert "layer2.0.conv1.weight" in report.inflated  # spatial 1x3x3 part keeps 2D weights
    assert model.layer2[0].conv1.weight.shape[2] == 1
    assert "layer2.0.conv1_t.weight" in report.new
    assert "layer2.0.bn1_t.running_mean" in report.new
    assert not report.unused


def test_report_for_googlenet_aux_heads(googlenet_sd) -> None:
    model = build_model("tam", "inceptionv1", 8, 7)
    report = load_pretrained(model, googlenet_sd)
    assert report.unused and all(k.startswith(("aux1.", "aux2.")) for k in report.unused)
    assert all(k.startswith("temporal.") for k in report.new)
    assert "inception4e.branch3.1.conv.weight" in report.loaded


def test_slowfast_gets_the_whole_resnet50(tmp_path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "r50.pth"
    sd = torchvision.models.resnet50(num_classes=7).state_dict()
    torch.save(sd, path)
    model = build_model("slowfast", "resnet50", 8, 7, pretrained=path)
    report = model.load_report
    assert "slow.layer1.1.conv2.weight" in report.inflated
    assert "slow.layer3.1.conv1.weight" in report.inflated  # 3x1x1 in res4 of the slow path
    # the first block of each stage also takes the fast pathway's lateral features: its 2D
    # weights fill the slow channels, the lateral input channels start at zero
    assert len(report.widened) == 8 and "slow.layer1.0.conv1.weight" in report.widened
    w = model.slow.layer1[0].conv1.weight  # (64, 64 + 16, 1, 1, 1)
    torch.testing.assert_close(w[:, :64, 0], sd["layer1.0.conv1.weight"])
    assert not w[:, 64:].any()
    assert {k.split(".")[0] for k in report.new} == {"fast", "fuse", "fc"}
    assert report.unused == ["fc.weight", "fc.bias"]


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
    assert not report.new and not report.unused


# ------------------------------------------------------------------- every architecture


def _added_by_the_architecture(model: nn.Module, key: str) -> bool:
    """Independent of the loader: the key belongs to a module the architecture inserts."""
    added = (TAM, TemporalShift, TemporalConv, NonLocalBlock, SqueezeExcitation3d, Lateral)
    path = key.rsplit(".", 1)[0].split(".")
    if path[0] == "fast" or key.rsplit(".", 1)[0] == "fc":  # SlowFast's fast path, classifier
        return True
    if any(name.endswith("_t") for name in path):  # S3D / R(2+1)D factorised temporal convs
        return True
    return any(
        isinstance(model.get_submodule(".".join(path[:i])), added) for i in range(1, len(path) + 1)
    )


def _small_combinations() -> list[tuple[str, str, bool]]:
    """Each architecture on InceptionV1 (where defined) and on its smallest ResNet."""
    combos = []
    for arch in list_archs():
        entry = get_arch(arch)
        resnets = [b for b in entry.backbones if b.startswith("resnet")]
        small = [b for b in entry.backbones if b == "inceptionv1"] + resnets[:1]
        combos += [(arch, b, tp) for b in small for tp in entry.temporal_pooling]
    return combos


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("arch", "backbone", "tp"), _small_combinations())
def test_every_architecture_takes_every_backbone_tensor(arch, backbone, tp, layout, imagenet_sds):
    """The right torchvision state dict: each backbone tensor loaded or inflated, and only what
    the architecture adds (or the 1000-class head it replaces) left at initialisation."""
    sd = imagenet_sds[backbone]
    model = build_model(arch, backbone, 8, 5, temporal_pooling=tp, layout=layout)
    report = load_pretrained(model, sd)
    keys = list(model.state_dict())
    assert sorted(report.loaded + report.inflated + report.new) == sorted(keys)
    source_of = getattr(model, "pretrained_key", lambda k: k)
    taken = {source_of(k) for k in report.loaded + report.inflated}
    expected = backbone_keys(backbone)
    assert taken == set(expected.shapes) - expected.classifier  # counters included
    not_added = [k for k in report.new if not _added_by_the_architecture(model, k)]
    assert not not_added, not_added
    assert set(report.unused) <= expected.classifier | expected.extras
    state = model.state_dict()
    for key in report.loaded:
        assert torch.equal(state[key], sd[source_of(key)]), key


def test_a_model_that_drops_or_reshapes_a_backbone_tensor_is_refused(imagenet_sds) -> None:
    """The guard behind the test above: a registry change that renames or reshapes a backbone
    module would otherwise leave ImageNet tensors out silently."""
    reshaped = build_model("tsn", "resnet18", 8, 5)
    reshaped.layer4[1].conv2 = nn.Conv2d(512, 512, 5, padding=2, bias=False)
    with pytest.raises(ModelError) as info:
        load_pretrained(reshaped, imagenet_sds["resnet18"])
    assert str(info.value).startswith(
        "model tsn-resnet18 does not take every tensor of its backbone resnet18: 1 tensor of "
        "another shape (layer4.1.conv2.weight <- layer4.1.conv2.weight: (512, 512, 3, 3) in the "
        "file, (512, 512, 5, 5) expected)"
    )
    renamed = build_model("tsn", "resnet18", 8, 5)
    renamed.layer4[1].conv_b = renamed.layer4[1].conv2
    del renamed.layer4[1].conv2
    with pytest.raises(ModelError, match=r"1 missing key \(layer4\.1\.conv2\.weight\)"):
        load_pretrained(renamed, imagenet_sds["resnet18"])


def test_the_backbones_are_torchvisions() -> None:
    assert all(backbone_keys(b).required for b in BACKBONES)
    r18 = backbone_keys("resnet18")
    assert r18.classifier == {"fc.weight", "fc.bias"} and not r18.extras
    assert r18.shapes["layer1.0.conv1.weight"] == (64, 64, 3, 3)
    google = backbone_keys("inceptionv1")
    assert google.extras and all(k.startswith(("aux1.", "aux2.")) for k in google.extras)


# ------------------------------------------------------------------- refused files


def _refusal(model: nn.Module, path) -> str:
    with pytest.raises(ModelError) as info:
        load_pretrained(model, path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_resnet50_weights_given_for_resnet18_are_refused(tmp_path, imagenet_sds) -> None:
    path = tmp_path / "resnet50.pth"
    torch.save(imagenet_sds["resnet50"], path)
    message = _refusal(build_model("tsn", "resnet18", 8, 5), path)
    assert "do not fit backbone resnet18 (tsn-resnet18)" in message
    assert "layer1.0.conv1.weight: (64, 64, 1, 1) in the file, (64, 64, 3, 3) expected" in message
    assert "unexpected keys (layer1.0.conv3.weight" in message
    assert "the file holds resnet50 weights" in message


def test_googlenet_weights_given_for_a_resnet_are_refused(tmp_path, imagenet_sds) -> None:
    path = tmp_path / "googlenet.pth"
    torch.save(imagenet_sds["inceptionv1"], path)
    message = _refusal(build_model("i3d", "resnet18", 8, 5), path)
    assert "do not fit backbone resnet18 (i3d-resnet18)" in message
    assert re.search(r"\d+ unexpected keys \(conv1\.conv\.weight", message)
    assert re.search(r"\d+ missing keys \(conv1\.weight", message)
    assert "the file holds inceptionv1 weights" in message


def test_one_tensor_of_a_wrong_shape_is_refused(tmp_path, imagenet_sds) -> None:
    sd = dict(imagenet_sds["resnet18"])
    sd["layer3.1.bn2.weight"] = torch.ones(255)
    path = tmp_path / "edited.pth"
    torch.save(sd, path)
    message = _refusal(build_model("tam", "resnet18", 8, 5), path)
    assert message.endswith(
        "1 tensor of another shape (layer3.1.bn2.weight: (255,) in the file, (256,) expected); "
        "give torchvision resnet18 weights"
    )
    assert identify(sd) is None


def test_a_key_too_many_or_too_few_is_refused(tmp_path, imagenet_sds) -> None:
    extra = {**imagenet_sds["resnet18"], "layer5.0.conv1.weight": torch.zeros(1)}
    torch.save(extra, tmp_path / "extra.pth")
    assert "1 unexpected key (layer5.0.conv1.weight)" in _refusal(
        build_model("tsn", "resnet18", 8, 5), tmp_path / "extra.pth"
    )
    fewer = {k: v for k, v in imagenet_sds["resnet18"].items() if k != "layer2.1.conv2.weight"}
    torch.save(fewer, tmp_path / "fewer.pth")
    assert "1 missing key (layer2.1.conv2.weight)" in _refusal(
        build_model("tsn", "resnet18", 8, 5), tmp_path / "fewer.pth"
    )


def test_what_a_torchvision_file_may_carry_or_lack(imagenet_sds) -> None:
    """Tolerated: GoogLeNet's aux heads, a head of any class count, no head at all, and files
    saved before PyTorch 0.4.1 (no BatchNorm step counters)."""
    model = build_model("tsn", "inceptionv1", 8, 5)
    assert len(load_pretrained(model, imagenet_sds["inceptionv1"]).unused) == 22
    headless = {k: v for k, v in imagenet_sds["resnet18"].items() if not k.startswith("fc.")}
    report = load_pretrained(build_model("tsn", "resnet18", 8, 5), headless)
    assert report.new == ["fc.weight", "fc.bias"] and not report.unused
    old = {k: v for k, v in headless.items() if not k.endswith("num_batches_tracked")}
    report = load_pretrained(build_model("tsn", "resnet18", 8, 5), old)
    assert len(report.absent_counters) == 20 and report.new == ["fc.weight", "fc.bias"]


# ------------------------------------------------------------------- unreadable files


@pytest.fixture(scope="module")
def broken_files(tmp_path_factory, imagenet_sds) -> dict:
    root = tmp_path_factory.mktemp("broken")
    good = root / "good.pth"
    torch.save(imagenet_sds["resnet18"], good)
    data = good.read_bytes()
    legacy = root / "legacy.pth"
    torch.save(imagenet_sds["resnet18"], legacy, _use_new_zipfile_serialization=False)
    files = {
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "truncated_legacy": legacy.read_bytes()[:100_000],
        "html": b"<!DOCTYPE html><html>404 Not Found</html>",
    }
    paths = {}
    for name, content in files.items():
        paths[name] = root / f"{name}.pth"
        paths[name].write_bytes(content)
    paths["module"] = root / "module.pth"
    torch.save(torchvision.models.resnet18(), paths["module"])
    paths["list"] = root / "list.pth"
    torch.save([torch.zeros(1)], paths["list"])
    return paths


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty", "file is empty (0 bytes)"),
        ("truncated", "truncated: a PyTorch file cut short at"),
        ("truncated_legacy", "truncated: a PyTorch file (legacy format) cut short at 100000"),
        ("html", "not a PyTorch file (41 bytes starting with b'<!DOCTYPE html><'): expected a "),
        ("module", "pickled objects that are not tensors (torchvision.models.resnet.BasicBlock, "),
        ("list", "it holds a list, not a state dict"),
    ],
)
def test_unreadable_files_get_a_reason_to_act_on(broken_files, name, reason) -> None:
    path = broken_files[name]
    with pytest.raises(ModelError) as info:
        load_pretrained(build_model("tsn", "resnet18", 8, 5), path)
    message = str(info.value)
    assert message.startswith(f"cannot read pretrained weights {path}: ")
    assert reason in message and "\n" not in message
    assert "weights_only" not in message and info.value.__cause__ is None
    if name == "module":
        assert message.endswith("a full model object?): save model.state_dict() instead")


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ModelError, match=r"pretrained weights .*missing\.pth does not exist"):
        load_pretrained(build_model("tsn", "resnet18", 8, 7), tmp_path / "missing.pth")
