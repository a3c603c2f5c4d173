"""`actionbench profile` / `actionbench benchmark` and the benchmark helpers."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from actionbench.cli import main
from actionbench.errors import ModelError
from actionbench.measure.model_benchmark import benchmark_model, max_batch_size
from actionbench.models import build_model


def test_profile_json_contract(capsys) -> None:
    rc = main(
        [
            "profile",
            "--arch",
            "tam",
            "--backbone",
            "resnet50",
            "--frames",
            "8",
            "--num-classes",
            "87",
            "--json",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1
    result = json.loads(out)
    assert isinstance(result["params"], int) and isinstance(result["gflops"], float)
    assert result["params"] == 23_725_655
    assert result["gflops"] == pytest.approx(32.8, abs=0.05)


def test_profile_temporal_pooling_flag(capsys) -> None:
    main(
        [
            "profile",
            "--arch",
            "tsn",
            "--backbone",
            "resnet50",
            "--frames",
            "8",
            "--num-classes",
            "87",
            "--temporal-pooling",
            "--json",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert result["temporal_pooling"] is True and result["gflops"] < 32.7


def test_profile_unsupported_exits_2(capsys) -> None:
    rc = main(
        [
            "profile",
            "--arch",
            "tsm",
            "--backbone",
            "inceptionv1",
            "--frames",
            "8",
            "--num-classes",
            "87",
            "--json",
        ]
    )
    assert rc == 2
    assert capsys.readouterr().out == ""


@pytest.mark.slow  # profiles all ~60 models
def test_profile_table_csv(tmp_path, capsys, caplog) -> None:
    path = tmp_path / "table.csv"
    assert (
        main(
            [
                "profile",
                "--table",
                "--frames",
                "4",
                "--num-classes",
                "10",
                "--size",
                "64",
                "--csv",
                str(path),
            ]
        )
        == 0
    )
    from actionbench.models import list_models

    rows = list(csv.DictReader(path.open()))
    # 4 frames are too few for the reference layout's S3D-InceptionV1-tp (time halved by the
    # pools, its 2x2x2 pool4 sees one frame): left out with a warning naming it, the rest profiled
    names = {r["model"] for r in rows}
    expected = {f"{a}-{b}{'-tp' if tp else ''}" for a, b, tp in list_models()}
    assert expected - names == {"s3d-inceptionv1-tp"}
    assert "s3d-inceptionv1-tp cannot take 4 frames" in caplog.text
    assert {"model", "params", "gflops"} <= set(rows[0])


def test_benchmark_cli_json(tmp_path, capsys) -> None:
    out = tmp_path / "b.json"
    rc = main(
        [
            "benchmark",
            "--arch",
            "tam",
            "--backbone",
            "resnet18",
            "--frames",
            "2",
            "--batch-size",
            "1",
            "--size",
            "32",
            "--warmup",
            "0",
            "--iters",
            "1",
            "--mode",
            "both",
            "--json",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    for mode in ("train", "inference"):
        assert result[mode]["step_ms"] > 0 and result[mode]["peak_mem_bytes"] > 0
    assert json.loads(out.read_text())["arch"] == "tam"


def test_benchmark_model_fields() -> None:
    model = build_model("tsn", "resnet18", 2, 3)
    r = benchmark_model(model, 1, 2, 32, "cpu", "inference", warmup=0, iters=2)
    assert set(r) >= {"clips_per_s", "step_ms", "peak_mem_bytes", "cpu_ms"}
    assert len(r["step_ms_all"]) == 2


def test_max_batch_size_needs_gpu() -> None:
    with pytest.raises(ModelError, match="CUDA"):
        max_batch_size(build_model("tsn", "resnet18", 2, 3), 2, 32, "cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_max_batch_size_on_gpu() -> None:
    n = max_batch_size(build_model("tsn", "resnet18", 2, 3), 2, 32, "cuda", limit=8)
    assert 1 <= n <= 8


def test_profile_layout_flag(capsys) -> None:
    """``--layout``: the reference code's S3D-ResNet50-tp (time-strided convs) matches its
    published 19,672,203,264 multiply-adds (classifier excluded); section E's pools cost less."""
    base = "profile --arch s3d --backbone resnet50 --frames 8 --num-classes 87 --temporal-pooling"
    results = {}
    for layout in ("reference", "paper"):
        assert main([*base.split(), "--layout", layout, "--json"]) == 0
        results[layout] = json.loads(capsys.readouterr().out)
        assert results[layout]["layout"] == layout
    ref = results["reference"]
    assert round((ref["gflops"] - ref["classifier_gflops"]) * 1e9) == 19_672_203_264
    assert results["paper"]["gflops"] == pytest.approx(18.14, abs=0.01)
    with pytest.raises(SystemExit):  # argparse refuses an unknown layout
        main([*base.split(), "--layout", "papers"])
