"""Checkpoints in the reference code's key layout convert tensor by tensor, or are refused.

The reference-format checkpoints are generated here from our models by the inverse mapping,
written from the reference's documented key names (``<block>.tam.{prev,curr,next}_se.fc1.weight``
of shape (C, 1, 1, 1) per TAM tap, InceptionV1 slots ``tam1`` ... ``tam5b``, S3D's
``conv_t.bias``, DataParallel's ``module.`` prefix, ``{"state_dict", "arch", ...}`` files).
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import pytest
import torch

from actionbench.cli import main
from actionbench.engine import checkpoint as ckpt
from actionbench.errors import ModelError
from actionbench.models import build_model
from actionbench.models.weights.reference_checkpoint import (
    convert_state_dict,
    infer_model_args,
    read_reference_checkpoint,
)

TAPS = ("prev", "curr", "next")


def reference_layout(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our keys -> the reference's (the inverse of the converter, written independently)."""
    out = {}
    for key, value in state.items():
        if key.endswith(".weight") and ".temporal" in f".{key}":
            slot = key[: -len(".weight")]
            if slot.startswith("temporal."):  # InceptionV1: temporal.conv1 -> tam1, ...
                layer = slot.split(".", 1)[1]
                ref_slot = "tam" + layer.removeprefix("conv").removeprefix("inception")
            else:  # ResNet: layer1.0.temporal -> layer1.0.tam
                ref_slot = slot.removesuffix(".temporal") + ".tam"
            for k, tap in enumerate(TAPS):
                tap_w = value[..., k]  # (C,) for TAM, (C, C) for the dense conv
                shape = (*tap_w.shape, 1, 1) if tap_w.dim() == 2 else (tap_w.shape[0], 1, 1, 1)
                out[f"{ref_slot}.{tap}_se.fc1.weight"] = tap_w.reshape(shape).clone()
        else:
            out[key] = value.clone()
    return {f"module.{k}": v for k, v in out.items()}


CASES = [
    ("tsn", "resnet18", False),
    ("tam", "resnet18", True),
    ("tconv", "resnet18", False),
    ("tam", "resnet50", False),
    ("tam", "inceptionv1", True),
    ("tconv", "inceptionv1", False),
    ("i3d", "inceptionv1", True),
    ("s3d", "inceptionv1", False),
    ("i3d", "resnet18", True),
    ("s3d", "resnet18", True),
]


@pytest.mark.parametrize(("arch", "backbone", "tp"), CASES)
def test_mapping_tensor_by_tensor(arch: str, backbone: str, tp: bool) -> None:
    torch.manual_seed(0)
    source = build_model(arch, backbone, 4, 5, tp)
    with torch.no_grad():  # non-trivial BN buffers too
        for name, buf in source.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_()
    state = source.state_dict()
    ref = reference_layout(state)
    torch.manual_seed(1)
    target = build_model(arch, backbone, 4, 5, tp)
    converted = convert_state_dict(ref, target)
    assert set(converted) == set(target.state_dict())
    for key, value in converted.items():
        assert torch.equal(value, state[key]), key
    if arch in ("tam", "tconv"):
        slot, ref_slot = (
            ("layer1.0.temporal", "module.layer1.0.tam")
            if backbone != "inceptionv1"
            else ("temporal.inception3a", "module.tam3a")
        )
        for k, tap in enumerate(TAPS):
            ref_w = ref[f"{ref_slot}.{tap}_se.fc1.weight"]
            assert ref_w.shape[-2:] == (1, 1)
            assert torch.equal(converted[f"{slot}.weight"][..., k], ref_w.flatten(1).squeeze(1))
    target.load_state_dict(converted)


def test_s3d_temporal_bias_absorbed_by_bn() -> None:
    """The reference's S3D conv_t bias: kept by the reference layout, folded into the BN's
    running mean by a model without it (paper layout); the module computes the same."""
    torch.manual_seed(0)
    source = build_model("s3d", "inceptionv1", 4, 5, layout="reference")
    with torch.no_grad():
        for name, p in source.named_parameters():
            if name.endswith("conv_t.bias"):
                p.normal_()
    ref = reference_layout(source.state_dict())
    assert "module.conv3.conv_t.bias" in ref
    target = build_model("s3d", "inceptionv1", 4, 5, layout="paper")
    converted = convert_state_dict(ref, target)
    bias = ref["module.conv3.conv_t.bias"]
    expect = ref["module.conv3.bn_t.running_mean"] - bias
    assert torch.equal(converted["conv3.bn_t.running_mean"], expect)
    target.load_state_dict(converted)
    x = torch.randn(2, 64, 4, 8, 8)
    torch.testing.assert_close(target.conv3.eval()(x), source.conv3.eval()(x))
    torch.testing.assert_close(target.conv3.train()(x), source.conv3.train()(x))


def test_refuses_what_it_cannot_map() -> None:
    model = build_model("tam", "resnet18", 4, 5)
    good = reference_layout(model.state_dict())
    bad = dict(good, **{"module.layer1.0.tam.blending_layers.0.fc1.weight": torch.zeros(64, 1)})
    with pytest.raises(ModelError, match=r"layer1\.0\.tam\.blending_layers\.0\.fc1\.weight"):
        convert_state_dict(bad, model)
    with pytest.raises(ModelError, match=r"'extra\.head\.weight' has no counterpart"):
        convert_state_dict(dict(good, **{"module.extra.head.weight": torch.zeros(1)}), model)
    missing = {k: v for k, v in good.items() if "layer4.1.bn2" not in k}
    with pytest.raises(ModelError, match=r"lacks .*layer4\.1\.bn2"):
        convert_state_dict(missing, model)
    with pytest.raises(ModelError, match=r"layer1\.0\.tam\.prev_se\.fc1\.weight.*no temporal"):
        convert_state_dict(good, build_model("tsn", "resnet18", 4, 5))
    s3d = build_model("s3d", "resnet18", 4, 5)
    dw = reference_layout(s3d.state_dict())
    dw["module.layer1.0.conv1_t.weight"] = torch.zeros(64, 1, 3, 1, 1)  # dw_t_conv variant
    with pytest.raises(ModelError, match=r"'layer1\.0\.conv1_t\.weight': shape \(64, 1, 3, 1, 1\)"):
        convert_state_dict(dw, s3d)


@pytest.mark.parametrize(
    ("arch_string", "expected"),
    [
        ("mini_st2stv2-rgb-TAM-b3-sum-resnet-18-f8-cosine-bs72-e75", ("tam", "resnet18", False, 8)),
        ("kinetics400-rgb-i3d-resnet-50-f32-cosine-bs48-e50", ("i3d", "resnet50", False, 32)),
        ("st2stv2-rgb-i3d_v2-ts-max-f16", ("i3d", "inceptionv1", True, 16)),
        ("x-rgb-s3d-resnet-18-ts-f64-multisteps", ("s3d", "resnet18", True, 64)),
        ("x-rgb-TAM-b3-sum-allc-inception-v1-ts-max-f8", ("tconv", "inceptionv1", True, 8)),
        ("x-rgb-inception-v1-f8-cosine", ("tsn", "inceptionv1", False, 8)),
        ("x-rgb-s3d-f16", ("s3d", "inceptionv1", False, 16)),
    ],
)
def test_infer_model_from_reference_run_name(arch_string: str, expected: tuple) -> None:
    got = infer_model_args(arch_string)
    assert (got["arch"], got["backbone"], got["temporal_pooling"], got["num_frames"]) == expected


def _reference_file(tmp_path: Path, model, arch_string: str) -> Path:
    path = tmp_path / "ref.pth.tar"
    torch.save(
        {
            "epoch": 75,
            "arch": arch_string,
            "state_dict": reference_layout(model.state_dict()),
            "best_top1": torch.tensor(59.1),
            "optimizer": {"state": {}, "param_groups": [{"lr": 0.01, "params": [0, 1]}]},
            "scheduler": {"milestones": collections.Counter({15: 1, 25: 1})},
        },
        path,
    )
    return path


def test_cli_import_then_evaluate(tmp_path, monkeypatch) -> None:
    """``import-checkpoint`` writes what ``actionbench evaluate --checkpoint`` scores."""
    torch.manual_seed(0)
    source = build_model("tam", "resnet18", 2, 3)
    src = _reference_file(tmp_path, source, "tiny-rgb-TAM-b3-sum-resnet-18-f2-cosine-bs8-e1")
    state, meta = read_reference_checkpoint(src)
    assert meta["epoch"] == 75 and all(not k.startswith("module.") for k in state)
    out = tmp_path / "imported.pt"
    assert main(["import-checkpoint", str(src), "--out", str(out)]) == 0
    saved = ckpt.load(out)
    assert saved["model_config"]["name"] == "tam-resnet18"
    assert saved["model_config"]["layout"] == "reference"

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
    import engine_tiny as tiny

    from actionbench.engine import factory
    from actionbench.engine.evaluate import evaluate

    monkeypatch.setattr(factory, "build_dataset", tiny.build_dataset)
    cfg = tiny.make_cfg(
        tmp_path,
        n_val=6,
        arch="tam",
        backbone="resnet18",
        run_id="tiny/tam-resnet18/f2",
        layout="reference",
    )
    cfg["eval"].update(num_clips=1, num_crops=1)
    metrics = evaluate(cfg, checkpoint=str(out))
    # the scores are the source model's on the same clips
    source.eval()
    clips = tiny.build_dataset(cfg, "val", train=False)
    hits = [int(source(views).argmax(1).item() == y) for views, y, _ in clips]  # 1 view each
    assert metrics["clip_top1"] == pytest.approx(100.0 * sum(hits) / len(hits))


def test_cli_needs_the_model_when_the_file_does_not_say(tmp_path) -> None:
    model = build_model("tsn", "resnet18", 2, 3)
    path = tmp_path / "bare.pth"
    torch.save(reference_layout(model.state_dict()), path)
    out = tmp_path / "o.pt"
    assert main(["import-checkpoint", str(path), "--out", str(out)]) == 2  # ModelError
    assert not out.exists()
    args = ["--arch", "tsn", "--backbone", "resnet18", "--frames", "2", "--temporal-pooling", "no"]
    assert main(["import-checkpoint", str(path), "--out", str(out), *args]) == 0
    model.load_state_dict(ckpt.state_dict_from(ckpt.load(out), out))
