"""`actionbench benchmark --table8` and the accelerator options of the benchmark (CPU-sized)."""

from __future__ import annotations

import json

import pytest
import torch

from actionbench.cli import main
from actionbench.errors import ModelError
from actionbench.measure.model_benchmark import benchmark_model
from actionbench.models import build_model
from actionbench.models.temporal.path import set_temporal_path


@pytest.fixture(autouse=True)
def _reset_path():
    yield
    set_temporal_path(None)  # the CLI sets the process-wide path


def test_table8_covers_the_papers_models(tmp_path, capsys) -> None:
    out = tmp_path / "t8.json"
    args = ["benchmark", "--table8", "--frames", "4", "--size", "32", "--batch-size", "1"]
    args += ["--mode", "inference", "--warmup", "0", "--iters", "1", "--json", "--out", str(out)]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)["table8"]
    assert [(r["arch"], r["temporal_pooling"]) for r in rows] == [
        ("tsn", True),
        ("tam", False),
        ("i3d", False),
        ("slowfast", False),
    ]
    for r in rows:
        assert r["num_classes"] == 400 and r["paper_clips_per_s"] > 0
        assert r["inference"]["clips_per_s"] > 0 and r["inference"]["peak_mem_bytes"] > 0
        assert r["inference"]["amp"] == "float32"  # --amp auto is float32 on CPU
    assert json.loads(out.read_text()) == {"table8": rows}


def test_benchmark_needs_a_model_or_table8(caplog) -> None:
    assert main(["benchmark", "--arch", "tam", "--frames", "2"]) != 0
    assert "benchmark needs --backbone, --batch-size (or --table8)" in caplog.text


def test_benchmark_forced_batched_path_and_channels_last(capsys) -> None:
    args = ["benchmark", "--arch", "tam", "--backbone", "resnet18", "--frames", "2"]
    args += ["--batch-size", "1", "--size", "32", "--warmup", "0", "--iters", "1"]
    args += ["--temporal-path", "batched", "--channels-last", "--json"]
    assert main(args) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["temporal_path"] == "batched" and r["train"]["channels_last"] is True


def test_benchmark_model_with_amp_options_on_cpu() -> None:
    """bf16 autocast runs on CPU too (that is how the GPU path's dtype handling is exercised)."""
    model = build_model("tsm", "resnet18", 2, 3)
    r = benchmark_model(model, 1, 2, 32, "cpu", "train", 0, 1, amp=torch.bfloat16)
    assert r["amp"] == "bfloat16" and r["clips_per_s"] > 0


def test_cuda_without_gpu_is_a_clear_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ModelError, match="cuda"):
        benchmark_model(build_model("tsn", "resnet18", 2, 3), 1, 2, 32, "cuda", "inference")


def test_table8_on_cuda_without_gpu_says_so(caplog) -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(["benchmark", "--table8", "--device", "cuda"]) != 0
    assert "torch.cuda.is_available() is False" in caplog.text
