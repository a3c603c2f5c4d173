"""The models' construction is pinned: state-dict keys and shapes of the 3D ResNets, and a seeded
build-and-forward output of small configurations of every ResNet architecture.

Saved runs and ``actionbench import-checkpoint`` load by key, and a seeded build must start
from the same weights, so refactoring how networks are put together (block classes, conv
builders, constructor arguments) must leave both exactly as they were. The expected values in
``tests/expected/model_construction.json`` were written by this module's ``write_pin()`` from the
code before such a refactoring; regenerate them only for a deliberate change of a model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from actionbench.models import build_model

PIN = Path(__file__).resolve().parents[1] / "expected" / "model_construction.json"

KEY_CASES = [
    (a, b) for a in ("i3d", "s3d", "i3d_se") for b in ("resnet18", "resnet50", "resnet101")
]
FORWARD_ARCHS = {
    "resnet18": ("tsn", "tam", "tsm", "tconv", "i3d", "s3d", "i3d_se"),
    "resnet50": ("nln", "i3d", "s3d", "i3d_se"),
}
FORWARD_CASES = [
    (arch, backbone, tp, layout)
    for backbone, archs in FORWARD_ARCHS.items()
    for arch in archs
    for tp in (False, True)
    for layout in ("reference", "paper")
]
SLOW_BACKBONES = {"resnet50"}
FRAMES, CLASSES, SIZE = 8, 5, 32


def state_dict_keys(arch: str, backbone: str) -> list[str]:
    with torch.device("meta"):
        model = build_model(arch, backbone, FRAMES, CLASSES)
    return [f"{k} {tuple(v.shape)}" for k, v in model.state_dict().items()]


def seeded_forward(arch: str, backbone: str, tp: bool, layout: str) -> dict:
    """Seeded build, then the eval-mode logits of a seeded clip and the sum of every weight."""
    torch.manual_seed(0)
    model = build_model(arch, backbone, FRAMES, CLASSES, temporal_pooling=tp, layout=layout)
    model.eval()
    clip = torch.randn(2, 3, FRAMES, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = model(clip)
    weights = sum(
        float(v.double().sum()) for v in model.state_dict().values() if v.is_floating_point()
    )
    return {"logits": logits.flatten().tolist(), "weight_sum": weights}


def case_id(arch: str, backbone: str, tp: bool = False, layout: str = "") -> str:
    return f"{arch}-{backbone}{'-tp' if tp else ''}{'-' + layout if layout else ''}"


def write_pin() -> None:
    pin = {
        "keys": {case_id(a, b): state_dict_keys(a, b) for a, b in KEY_CASES},
        "forward": {case_id(*c): seeded_forward(*c) for c in FORWARD_CASES},
    }
    PIN.write_text(json.dumps(pin, indent=1) + "\n")


@pytest.fixture(scope="module")
def pin() -> dict:
    return json.loads(PIN.read_text())


@pytest.mark.parametrize(("arch", "backbone"), KEY_CASES, ids=[case_id(*c) for c in KEY_CASES])
def test_state_dict_keys_and_shapes_are_unchanged(pin, arch, backbone) -> None:
    assert state_dict_keys(arch, backbone) == pin["keys"][case_id(arch, backbone)]


@pytest.mark.parametrize(
    ("arch", "backbone", "tp", "layout"),
    [
        pytest.param(*c, id=case_id(*c), marks=[pytest.mark.slow] if c[1] in SLOW_BACKBONES else [])
        for c in FORWARD_CASES
    ],
)
def test_seeded_build_and_forward_are_unchanged(pin, arch, backbone, tp, layout) -> None:
    got = seeded_forward(arch, backbone, tp, layout)
    want = pin["forward"][case_id(arch, backbone, tp, layout)]
    assert got["weight_sum"] == pytest.approx(want["weight_sum"], rel=1e-9)
    torch.testing.assert_close(
        torch.tensor(got["logits"]), torch.tensor(want["logits"]), rtol=1e-4, atol=1e-6
    )


if __name__ == "__main__":
    write_pin()
