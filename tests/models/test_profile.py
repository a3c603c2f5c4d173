"""Parameter and FLOP counts against the paper's Table 10 (87 classes, 8 frames, 224 px) and
Table 8 (400 classes, 32 frames, 256 px). Tolerance: 1% parameters, 2% FLOPs."""

from __future__ import annotations

import pytest
import torch

from actionbench.measure.profiling import count_macs, profile_model
from actionbench.models import build_model

# (arch, backbone): (paper GFLOPs, paper M params) - Table 10, f = 8
TABLE10 = {
    ("tsn", "inceptionv1"): (12.0, 5.7),
    ("i3d", "inceptionv1"): (33.6, 12.4),
    ("tconv", "inceptionv1"): (32.2, 17.2),
    ("tam", "inceptionv1"): (12.0, 5.7),
    ("tsn", "resnet50"): (32.7, 23.7),
    ("i3d", "resnet50"): (64.2, 46.3),
    ("tconv", "resnet50"): (107.0, 71.5),
    ("tam", "resnet50"): (32.8, 23.7),
    ("tsm", "resnet50"): (32.7, 23.7),
}

# Table 8 (full Kinetics models, 32 frames, 256x256 test crops): GFLOPs
TABLE8 = {
    ("tsn", "resnet50", True): 73.9,
    ("tam", "resnet50", False): 171.5,
    ("i3d", "resnet50", False): 335.3,
    ("slowfast", "resnet50", False): 65.7,
}


@pytest.mark.parametrize(("arch", "backbone"), list(TABLE10))
def test_table10(arch: str, backbone: str) -> None:
    gflops, mparams = TABLE10[(arch, backbone)]
    r = profile_model(arch, backbone, 8, 87)
    assert r["params"] / 1e6 == pytest.approx(mparams, rel=0.01)
    assert r["gflops"] == pytest.approx(gflops, rel=0.02)


def test_tsn_r50_exact() -> None:
    r = profile_model("tsn", "resnet50", 8, 87)
    assert r["params"] == 23_686_295
    assert round(r["gflops"], 1) == 32.7


def test_nln_documented_deviation() -> None:
    """NLN as the paper's text defines it (3 blocks in stage 2, 2 in stage 3) cannot give both
    of Table 10's numbers (196 GFLOPs, 31.0M); docs/models.md has the arithmetic. Pin our
    counts so the document stays true."""
    r = profile_model("nln", "resnet50", 8, 87)
    assert r["params"] == 29_469_591
    assert r["gflops"] == pytest.approx(114.6, abs=0.05)


@pytest.mark.parametrize(("arch", "backbone", "tp"), list(TABLE8))
def test_table8_flops(arch: str, backbone: str, tp: bool) -> None:
    r = profile_model(arch, backbone, 32, 400, tp, size=256)
    assert r["gflops"] == pytest.approx(TABLE8[(arch, backbone, tp)], rel=0.02)


def test_sixteen_frames_double() -> None:
    """Table 10 caption: FLOPs of 16 frames are double those of 8, parameters the same."""
    a, b = profile_model("tam", "resnet50", 8, 87), profile_model("tam", "resnet50", 16, 87)
    assert b["params"] == a["params"]
    assert b["gflops"] == pytest.approx(2 * a["gflops"], rel=1e-3)


def test_tam_counts_its_three_depthwise_convs() -> None:
    tsn, tam = profile_model("tsn", "resnet50", 8, 87), profile_model("tam", "resnet50", 8, 87)
    # 3 MACs per element of every residual-block input: 3 * 8 * sum(C_in * H * W)
    per_frame = (
        (64 + 256 * 2) * 56**2
        + 256 * 56**2
        + 512 * 3 * 28**2
        + 512 * 28**2
        + 1024 * 5 * 14**2
        + 1024 * 14**2
        + 2048 * 2 * 7**2
    )
    assert (tam["gflops"] - tsn["gflops"]) * 1e9 == pytest.approx(3 * 8 * per_frame)


@pytest.mark.parametrize(
    ("arch", "backbone"),
    [
        ("tam", "resnet18"),
        ("tsm", "resnet18"),
        ("tconv", "resnet18"),
        ("i3d", "resnet18"),
        ("s3d", "inceptionv1"),
        ("tam", "inceptionv1"),
        ("nln", "resnet50"),
    ],
)
def test_meta_counter_agrees_with_fvcore(arch: str, backbone: str) -> None:
    torch.manual_seed(0)
    model = build_model(arch, backbone, 4, 5)
    clip = torch.randn(1, 3, 4, 64, 64)
    assert count_macs(model, clip, "flop_counter") == count_macs(model, clip, "fvcore")


def test_profile_returns_contract_fields() -> None:
    r = profile_model("i3d", "resnet18", 8, 87, True)
    assert isinstance(r["params"], int) and isinstance(r["gflops"], float)
    assert r["model"] == "i3d-resnet18-tp"
