"""One vocabulary: spec.py's names agree with the schema, the registry and the networks."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch
import yaml

from actionbench import spec
from actionbench.config import expand_grid, load_params, run_protocol
from actionbench.errors import ConfigError, ModelError
from actionbench.fingerprints import protocol_digest
from actionbench.spec import ModelSpec, RunSpec


def _experiment_enums(repo_root) -> dict[str, list]:
    schema = yaml.safe_load((repo_root / "workflow" / "schemas" / "params.schema.yaml").read_text())
    props = schema["properties"]["experiments"]["additionalProperties"]["properties"]
    return {
        key: value["items"]["enum"]
        for key, value in props.items()
        if "enum" in value.get("items", {})
    }


def test_schema_enums_equal_the_vocabulary(repo_root):
    enums = _experiment_enums(repo_root)
    expected = {
        "archs": spec.ARCHS,
        "backbones": spec.BACKBONES,
        "frames": spec.FRAME_STAGES,
        "sampling": spec.SAMPLINGS,
        "tam_locations": spec.TAM_LOCATIONS,
    }
    if "layout" in enums:  # issue 13's layout axis, once merged
        expected["layout"] = spec.LAYOUTS
    assert set(expected) <= set(enums)
    for key, values in expected.items():
        assert sorted(enums[key], key=str) == sorted(values, key=str), key
    schema = yaml.safe_load((repo_root / "workflow" / "schemas" / "params.schema.yaml").read_text())
    train = schema["$defs"]["train"]["properties"]
    assert sorted(train["inflation"]["enum"]) == sorted(spec.INFLATION_MODES)
    assert sorted(train["pretrained"]["properties"]) == sorted(spec.BACKBONES)


def test_registry_registers_exactly_the_vocabulary():
    from actionbench.models import get_arch, list_archs

    assert list_archs() == list(spec.ARCHS)
    assert set(spec.ARCH_LABELS) == set(spec.ARCHS)
    assert set(spec.BACKBONE_LABELS) == set(spec.BACKBONES)
    assert set(spec.RESNET_DEPTHS) == set(spec.RESNET_BLOCKS) < set(spec.BACKBONES)
    assert set(spec.LOCATION_LABELS) == set(spec.TAM_LOCATIONS)
    for arch in spec.ARCHS:
        assert set(get_arch(arch).backbones) <= set(spec.BACKBONES)


@pytest.mark.parametrize("backbone", ["resnet18", "resnet50", "resnet101"])
def test_resnet_blocks_count_the_networks_residual_blocks(backbone):
    from actionbench.models import build_model

    with torch.device("meta"):
        model = build_model("tam", backbone, 2, 3)
    tams = [m for m in model.modules() if type(m).__name__ == "TAM"]
    assert len(tams) == spec.RESNET_BLOCKS[backbone]


RUNS = [
    RunSpec("mini-synthetic", "tam", "resnet18", False, 8),
    RunSpec("kinetics400", "i3d_se", "resnet50", True, 32, "dense"),
    RunSpec("ssv2", "tam", "inceptionv1", True, 16, "dense", "uniform_half"),
    RunSpec("mini-mit", "tsm", "resnet101", False, 64, "uniform", "top_half", layout="paper"),
]


@pytest.mark.parametrize("run", RUNS, ids=lambda r: r.run_id)
def test_run_id_round_trips(run):
    assert RunSpec.parse(run.run_id) == run
    assert spec.parse_run_id(run.run_id)["frames"] == run.frames


def test_names_and_labels():
    run = RUNS[2]
    assert run.run_id == "ssv2/tam-inceptionv1-tp-dense-uniform_half/f16"
    assert run.label == "TAM-InceptionV1-tp (dense) (Uniform-half)"
    model = run.model_spec(num_classes=174)
    # the network does not know the sampling: its name drops -dense, keeps the rest
    assert model.name == "tam-inceptionv1-tp-uniform_half"
    assert model.num_frames == 16 and model.num_classes == 174
    assert RUNS[0].run_id == "mini-synthetic/tam-resnet18/f8"  # defaults add nothing
    assert RUNS[3].model_name == "tsm-resnet101-top_half-paper"
    assert spec.label("tsn", "resnet50") == "TSN-ResNet50"


def test_malformed_run_id_names_the_id_and_the_format():
    with pytest.raises(ConfigError, match=r"'x/tam-resnet7/f8'.*<dataset>/<arch>-<backbone>"):
        RunSpec.parse("x/tam-resnet7/f8")


def test_previous_stage():
    assert spec.previous_stage(16) == 8
    with pytest.raises(ConfigError, match="f8 has no previous"):
        spec.previous_stage(8)
    with pytest.raises(ConfigError, match="f12 is not a frame stage"):
        spec.previous_stage(12)


def test_specs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RUNS[0].frames = 16  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelSpec("tsn", "resnet18", 8, 3).dropout = 0.1  # type: ignore[misc]


def test_build_model_takes_one_spec_and_constructors_receive_it():
    from actionbench.models import build_model, get_arch

    model_spec = ModelSpec("tam", "resnet18", 2, 3, tam_locations="top_half", dropout=0.2)
    model = build_model(model_spec)
    assert model.spec == model_spec
    assert model.config["name"] == "tam-resnet18-top_half"
    # the argument form builds the same spec (ModelSpec's fields are the one signature)
    same = build_model(
        "tam", "resnet18", num_frames=2, num_classes=3, tam_locations="top_half", dropout=0.2
    )
    assert same.spec == model_spec
    # constructors take the spec itself
    direct = get_arch("tam").constructor(model_spec)
    assert sum(p.numel() for p in direct.parameters()) == sum(p.numel() for p in model.parameters())
    with pytest.raises(ModelError, match="layout must be one of"):
        build_model(dataclasses.replace(model_spec, layout="sideways"))
    with pytest.raises(ModelError, match="bad model arguments"):
        build_model("tam", "resnet18", frames=2)


def test_factory_reads_the_run_config_into_one_spec():
    from actionbench.engine.factory import model_spec

    cfg = {
        "arch": "tsm",
        "backbone": "resnet50",
        "frames": 16,
        "num_classes": 7,
        "temporal_pooling": True,
        "tam_locations": "all",
        "model": {"dropout": 0.3},
        "init": {"inflation": "mean"},
    }
    assert model_spec(cfg) == ModelSpec("tsm", "resnet50", 16, 7, True, "all", 0.3, "mean")
    assert model_spec({**cfg, "layout": "paper"}).layout == "paper"


# --------------------------------------------------------------------------- resolved config


def test_resolved_config_records_the_init_source(params_file, base_params):
    params = load_params(params_file(base_params))
    f8 = run_protocol(params, "mini-synthetic/tam-resnet18/f8")
    assert f8["init"]["source_run"] is None and f8["init"]["source_fingerprint"] is None
    f16 = run_protocol(params, "mini-synthetic/tam-resnet18/f16")
    assert f16["init"]["source_run"] == "mini-synthetic/tam-resnet18/f8"
    assert f16["init"]["source_fingerprint"] == protocol_digest(f8)
    # sampling and the evaluation protocol travel with the run, too
    assert f16["sampling"] == "uniform" and f16["dense_stride"] >= 1
    assert {"num_clips", "num_crops"} <= set(f16["eval"])


def test_checkpoint_run_id_reads_a_legacy_checkpoint_path():
    assert (
        spec.checkpoint_run_id("runs/mini-ssv2/tam-resnet50-tp/f16/final.pt")
        == "mini-ssv2/tam-resnet50-tp/f16"
    )
    assert spec.checkpoint_run_id("/weights/resnet50.pth") is None
    assert spec.checkpoint_run_id(None) is None


def test_source_fingerprint_covers_the_whole_chain(params_file, base_params):
    params = copy.deepcopy(base_params)
    params["experiments"]["demo"]["frames"] = [8, 16, 32]
    before = load_params(params_file(params))
    params["experiments"]["demo"]["train"]["stages"]["f8"]["epochs"] += 1
    after = load_params(params_file(params))
    for rid in ("mini-synthetic/tam-resnet18/f16", "mini-synthetic/tam-resnet18/f32"):
        old, new = run_protocol(before, rid), run_protocol(after, rid)
        assert old["init"]["source_run"] == new["init"]["source_run"]
        assert old["init"]["source_fingerprint"] != new["init"]["source_fingerprint"], rid


def test_init_run_records_the_run_it_starts_from(params_file, base_params):
    params = copy.deepcopy(base_params)
    demo = params["experiments"]["demo"]
    params["experiments"]["finetune"] = {
        "dataset": "synthetic",
        "archs": ["tam"],
        "backbones": ["resnet18"],
        "frames": [16],
        "train": {
            "stages": {
                "f16": {
                    "init": "run",
                    "from_run": "mini-synthetic/{model}/f16",
                    "new_head": True,
                    "epochs": 1,
                    "schedule": "cosine",
                }
            }
        },
    }
    loaded = load_params(params_file(params))
    runs = expand_grid(loaded)
    cfg = run_protocol(loaded, "synthetic/tam-resnet18/f16", runs)
    assert cfg["init"]["kind"] == "checkpoint" and cfg["init"]["new_head"] is True
    assert cfg["init"]["source_run"] == "mini-synthetic/tam-resnet18/f16"
    assert cfg["init"]["source_fingerprint"] == protocol_digest(
        run_protocol(loaded, "mini-synthetic/tam-resnet18/f16", runs)
    )
    assert demo["archs"]  # the source group is unchanged


def test_schema_is_found_in_the_package(tmp_path, base_params, monkeypatch):
    """params.yaml anywhere (no workflow/ beside it) validates against the packaged schema."""
    from actionbench.config import find_schema, packaged_schema

    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(base_params))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACTIONBENCH_SCHEMA", raising=False)
    assert find_schema(path) == packaged_schema()
    assert packaged_schema().is_file()
    assert load_params(path)["experiments"]["demo"]["archs"]
    monkeypatch.setenv("ACTIONBENCH_SCHEMA", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match=r"ACTIONBENCH_SCHEMA=.*missing\.yaml: no such file"):
        load_params(path)
