"""Every example command line in every subcommand's ``--help`` runs as printed.

The examples are read from the parser (``cli.helptext.read_examples``), so an example added or
changed later is checked without editing this file. The project they run in is built here: the
shipped demo grid (TSN and TAM on ResNet18, 8 and 16 frames, on mini-synthetic) over a tiny
synthetic set, in tmp_path. Fast: every example parses, and the run ids they name are runs of
that grid. Slow: all of them run, in pipeline order, each one on what the ones before it wrote.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from actionbench.cli import build_parser
from actionbench.cli.helptext import read_examples
from actionbench.config import expand_grid
from study_params import demo_params as study_demo

REPO = Path(__file__).resolve().parents[1]

# The order the examples run in: each uses files the ones before it wrote.
PIPELINE = [
    "synth",
    "index",
    "extract",
    "lists",
    "mini",
    "benchmark-data",
    "reencode",
    "grid",
    "plan",
    "status",
    "train",
    "launch",
    "evaluate",
    "report",
    "dvc-metrics",
    "dvc-params",
    "profile",
    "benchmark",
    "import-checkpoint",
]
# What `import-checkpoint`'s example reads: a checkpoint the reference code released
# (its file name) with the run name its training script stores in it.
REFERENCE_FILE = "K400-TAM-ResNet-50-f32.pth.tar"
REFERENCE_ARCH = "kinetics400-rgb-TAM-b3-sum-resnet-50-f32-cosine-bs48-e50"


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


EXAMPLES = {name: read_examples(p.description or "") for name, p in subcommands().items()}


def demo_params() -> dict:
    """The demo study (study_params; the shipped grid's demo group and its data), shrunk to
    seconds."""
    params = study_demo()
    params["datasets"] = {"synthetic": params["datasets"]["synthetic"]}
    synthetic = params["datasets"]["synthetic"]
    synthetic["storage"] = "frames"
    synthetic["synth"].update(
        size=32, num_frames=16, train_per_class=2, val_per_class=2, temporal_pairs=2,
        spatial_classes=2,
    )  # fmt: skip
    synthetic["extract"].update(short_side=36, workers=2)
    demo = params["experiments"]["demo"]
    demo.update(
        enabled=True, dataset="mini-synthetic", archs=["tsn", "tam"], backbones=["resnet18"],
        temporal_pooling=[False], frames=[8, 16], sampling=["uniform"],
    )  # fmt: skip
    demo["train"]["optim"].update(batch_size=2)
    demo["train"]["stages"] = {
        "f8": {"init": "scratch", "epochs": 1, "schedule": "cosine"},
        "f16": {"init": "previous", "epochs": 1, "schedule": "cosine"},
    }
    demo["evaluate"] = {"num_clips": 2, "batch_size": 4}
    params["experiments"] = {"demo": demo}
    return params


def test_the_pipeline_order_names_every_subcommand() -> None:
    assert sorted(PIPELINE) == sorted(EXAMPLES), "add new subcommands to PIPELINE, in order"
    assert all(EXAMPLES.values()), [n for n, e in EXAMPLES.items() if not e]


@pytest.mark.parametrize("name", PIPELINE)
def test_examples_parse_and_name_runs_of_the_demo_grid(name: str) -> None:
    runs = set(expand_grid(demo_params()))
    for example in EXAMPLES[name]:
        argv = shlex.split(example)
        assert argv[:2] == ["actionbench", name], example
        args = build_parser().parse_args(argv[1:])
        for run_id in (getattr(args, "run_id", None), getattr(args, "show", None)):
            assert run_id in (None, *runs), f"{example}: {run_id} is not a run of the demo grid"


def write_reference_checkpoint(path: Path) -> None:
    """A checkpoint in the reference code's format, as its released TAM-ResNet50 f32 files."""
    import torch

    sys.path.insert(0, str(REPO / "tests" / "models"))
    from test_reference_checkpoint import reference_layout

    from actionbench.models import build_model

    model = build_model("tam", "resnet50", 32, 400)
    state = {"arch": REFERENCE_ARCH, "state_dict": reference_layout(model.state_dict())}
    torch.save(state, path)


@pytest.mark.slow
@pytest.mark.integration
def test_every_example_runs_as_printed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "workflow" / "schemas").mkdir(parents=True)
    shutil.copy(REPO / "workflow/schemas/params.schema.yaml", project / "workflow/schemas")
    shutil.copytree(REPO / "workflow/profiles", project / "workflow/profiles")  # plan --profile
    (project / "params.yaml").write_text(yaml.safe_dump(demo_params()))
    write_reference_checkpoint(project / REFERENCE_FILE)
    actionbench = [
        sys.executable,
        "-c",
        "import sys; from actionbench.cli import main; sys.exit(main())",
    ]
    for name in PIPELINE:
        for example in EXAMPLES[name]:
            argv = shlex.split(example)
            out = subprocess.run(
                [*actionbench, *argv[1:]], cwd=project, capture_output=True, text=True, timeout=900
            )
            assert out.returncode == 0, f"{example}\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    # what the examples wrote, one file each for the steps whose output the next ones read
    for written in (
        "data/raw/synthetic/annotations.csv",
        "data/lists/mini-synthetic/train.csv",
        "loader.json",
        "reencoded.csv",
        "runs/mini-synthetic/tam-resnet18/f8/final.pt",
        "runs/mini-synthetic/tam-resnet18/f8/eval/metrics.json",
        "reports/index.html",
        "profile/f8.csv",
        "weights/tam-r50.pt",
    ):
        assert (project / written).is_file(), written
    dvc = json.loads((project / "reports/dvc_metrics.json").read_text())
    assert dvc, "dvc-metrics wrote no metrics"
