"""Every default is written once (actionbench.defaults), and the places that use one agree.

The walk below fails on a literal fallback in ``src/`` or ``workflow/`` that repeats a default.
What counts as one:

* ``X.get("key", <literal>)``, ``X.pop("key", <literal>)``, ``X.setdefault("key", <literal>)`` and
  ``X.get("key") or <literal>``, where ``"key"`` names a setting that has a default in
  :mod:`actionbench.defaults` (the last part of its dotted name, in any of its tables: params.yaml
  sections, resources, the run config) and ``<literal>`` is that default: the same type and value,
  or an element of a list default (a group's ``sampling: ["uniform"]`` makes ``"uniform"`` one).
  ``None`` is no fallback (``.get(key)`` says "maybe absent", not "default None").
* ``runcfg.get(cfg, "a.b", <literal>)``: any literal; a run config's optional keys take their
  defaults from ``actionbench.defaults.RUN_CONFIG``.

Key and value together are what aims the check at config access without a list of variable
names: ``.get`` on other dicts (a frame record's ``num_frames``, a benchmark file's ``records``)
shares a key name with a setting now and then, but seldom its default value as well; the tests of
the rule itself below hold such cases. A fallback that uses the defaults module
(``entry.get("gpus", defaults.RESOURCES["default"]["gpus"])``) is no literal and passes.

Files: every module under ``src/``, the ``Snakefile`` and ``workflow/rules/*.smk``, the latter
compiled to Python by Snakemake's own parser, so lines inside rules are seen as Snakemake runs them.
"""

from __future__ import annotations

import ast
import copy
import json
import logging
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from actionbench import defaults
from actionbench.config import run_protocol, validate_params
from actionbench.engine import runcfg
from actionbench.engine.factory import model_spec
from actionbench.errors import ConfigError
from actionbench.fingerprints import eval_fingerprint, protocol_digest
from study_params import demo_params

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "params.schema.yaml").read_text())
TABLES = {
    "PROJECT": defaults.PROJECT,
    "DATASET": defaults.DATASET,
    "MINI": defaults.MINI,
    "SYNTH": defaults.SYNTH,
    "GROUP": defaults.GROUP,
    "TRAIN": defaults.TRAIN,
    "STAGE": defaults.STAGE,
    "RESOURCES": defaults.RESOURCES,
    "CLUSTER": defaults.CLUSTER,
    "REPORT": defaults.REPORT,
}


# --------------------------------------------------------------------------- the rule


def _leaves(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def defaulted_values() -> dict[str, list[tuple[str, Any]]]:
    """key name -> [(where the default is written, the value a fallback must not repeat)]."""
    found: dict[str, list[tuple[str, Any]]] = {}
    sources = [(f"defaults.{n}.{k}", k, v) for n, t in TABLES.items() for k, v in _leaves(t)]
    sources += [(f"defaults.RUN_CONFIG[{k!r}]", k, v) for k, v in defaults.RUN_CONFIG.items()]
    for where, dotted, value in sources:
        values = [value, *value] if isinstance(value, list) else [value]
        for item in values:
            if item is not None:
                found.setdefault(dotted.rsplit(".", 1)[-1], []).append((where, item))
    return found


DEFAULTED = defaulted_values()


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _literal(node: ast.AST) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _repeats(key: str, value: Any) -> str | None:
    """Where the default ``value`` of ``key`` is written, if it is one."""
    for where, default in DEFAULTED.get(key.rsplit(".", 1)[-1], []):
        if _kind(value) == _kind(default) and value == default:
            return where
    return None


def _get_call(node: ast.AST) -> tuple[str, ast.AST | None] | None:
    """(key, fallback node or None) of ``X.get/pop/setdefault("key"[, fallback])``."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    if node.func.attr not in ("get", "pop", "setdefault") or not 1 <= len(node.args) <= 2:
        return None
    key = node.args[0]
    if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
        return None
    return key.value, node.args[1] if len(node.args) == 2 else None


def literal_fallbacks(source: str) -> list[tuple[int, str]]:
    """(line, why) of every literal fallback in ``source`` that repeats a default."""
    found = []
    for node in ast.walk(ast.parse(source)):
        pairs: list[tuple[str, ast.AST]] = []
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("runcfg.get"):
            if len(node.args) == 3 and _literal(node.args[2])[0]:
                found.append((node.lineno, f"{ast.unparse(node)}: the default is RUN_CONFIG's"))
            continue
        call = _get_call(node)
        if call and call[1] is not None:
            pairs.append((call[0], call[1]))
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            for left, right in zip(node.values, node.values[1:], strict=False):
                call = _get_call(left)
                if call and call[1] is None:
                    pairs.append((call[0], right))
        for key, fallback in pairs:
            is_literal, value = _literal(fallback)
            where = _repeats(key, value) if is_literal and value is not None else None
            if where:
                found.append((node.lineno, f"{ast.unparse(node)}: repeats {where}"))
    return found


def snakemake_python(path: Path) -> tuple[str, dict[int, int]]:
    """A Snakefile as the Python Snakemake compiles it to, and its line map (compiled ->
    source)."""
    import tempfile

    from snakemake.parser import parse
    from snakemake.sourcecache import LocalSourceFile, SourceCache

    linemap: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as cache:
        workflow = types.SimpleNamespace(sourcecache=SourceCache(Path(cache)))
        code, _ = parse(LocalSourceFile(str(path)), workflow, linemap)
    return code, linemap


def scanned_files() -> list[Path]:
    return sorted((REPO / "src").rglob("*.py")) + [
        REPO / "Snakefile",
        *sorted((REPO / "workflow" / "rules").glob("*.smk")),
    ]


@pytest.mark.parametrize("path", scanned_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_literal_fallback_repeats_a_default(path: Path) -> None:
    if path.suffix == ".py":
        source, linemap = path.read_text(), {}
    else:
        source, linemap = snakemake_python(path)
    found = [
        f"{path.relative_to(REPO)}:{linemap.get(line, line)}: {why}"
        for line, why in literal_fallbacks(source)
    ]
    assert not found, "use actionbench.defaults instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "snippet",
    [
        'ds_cfg.get("storage", "frames")',
        '(cfg.get("extract") or {}).get("short_side", 256)',
        'group.get("enabled", True)',
        'group.get("sampling", ["uniform"])',
        'row.get("sampling", "uniform")',  # an element of a list default
        'rec.get("tam_locations") or "all"',
        'stage.get("gamma", 0.1)',
        'runtime.pop("workers", 4)',
        'runcfg.get(cfg, "data.on_bad_frame", "fail")',
        'runcfg.get(cfg, "runtime.seed", 3)',  # any literal: the run config's default is RUN_CONFIG's
    ],
)
def test_the_rule_finds_a_repeated_default(snippet: str) -> None:
    assert literal_fallbacks(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        'os.environ.get("ACTIONBENCH_VERBOSE", "0")',  # not a setting
        'failure.get("reason", "unknown")',
        'kept.get("num_frames", 0)',  # a frame record's, not synth.num_frames (30)
        'doc.get("records", [])',  # a benchmark file's rows, not cluster.records (a folder)
        'entry.get("gpus", 1)',  # a value no default has: not a repeat
        'entry.get("nodes", True)',  # True == 1, but a bool is no node count
        'extract.get("fps")',  # no fallback
        'params.get("project", {})',  # a section, not a setting
        'cfg.get("layout", DEFAULT_LAYOUT)',  # the defaults' own value
        'runcfg.get(cfg, "data.test_crop_size", default_crop)',  # computed, not a literal
        'GROUP_COLORS.get(group, "#999")',  # the key is no literal
    ],
)
def test_the_rule_leaves_other_gets_alone(snippet: str) -> None:
    assert not literal_fallbacks(snippet), snippet


def test_the_snakemake_files_are_read_through_snakemakes_parser(tmp_path) -> None:
    code, linemap = snakemake_python(REPO / "workflow" / "rules" / "common.smk")
    assert "def job_resources" in code and linemap
    rule = tmp_path / "rule.smk"
    rule.write_text("rule r:\n    params:\n        x=lambda w: config.get('enabled', True)\n")
    found = literal_fallbacks(snakemake_python(rule)[0])
    assert found and "defaults.GROUP.enabled" in found[0][1]


def test_the_schema_writes_no_default() -> None:
    """A ``default:`` in the schema would be a second place (and a validator that applies it
    would fill every experiment group's override sections: defaults.py's docstring)."""

    def defaults_in(node: Any, where: str) -> Iterator[str]:
        if isinstance(node, dict):
            if "default" in node and not isinstance(node["default"], dict):  # not resources.default
                yield where
            for key, value in node.items():
                yield from defaults_in(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from defaults_in(value, f"{where}[{i}]")

    assert not list(defaults_in(SCHEMA, "schema"))


# --------------------------------------------------------------------------- one value each


def _without_optional_settings(params: dict) -> dict:
    """Demo params that leave every setting with a run-config default to its default."""
    for key in ("mlflow_experiment", "tracking_uri", "keep_set_aside"):
        params["project"].pop(key)
    params["datasets"]["synthetic"].pop("on_bad_frame")
    for section in (params["train"], params["experiments"]["demo"]["train"]):
        section.pop("runtime")
        section.pop("val_every", None)
    return params


def test_a_resolved_config_and_a_hand_built_one_get_the_same_defaults() -> None:
    """run_protocol fills params.yaml's defaults; runcfg fills a hand-built config's optional keys;
    both read actionbench.defaults, so they agree key by key (runtime.deterministic included,
    which once defaulted to true in the engine and false in params.yaml)."""
    params = _without_optional_settings(demo_params())
    cfg = run_protocol(params, "mini-synthetic/tsn-resnet18/f8")
    emitted = {
        k: v
        for k, v in defaults.RUN_CONFIG.items()
        if defaults.lookup(cfg, k) is not defaults.ABSENT
    }
    assert set(defaults.RUN_CONFIG) - set(emitted) <= {
        "data.root",
        "data.storage",  # video mode only
        "data.decoder",
        "data.short_side",
        "tracking.enabled",  # tests only
    }
    for key, value in emitted.items():
        if key == "data.classes":
            continue  # params.yaml always names the list
        assert defaults.lookup(cfg, key) == value, key
        hand_built = copy.deepcopy(cfg)
        *parents, leaf = key.split(".")
        node = hand_built
        for part in parents:
            node = node[part]
        del node[leaf]
        assert runcfg.get(hand_built, key) == value, key
    assert cfg["data"]["workers"] == defaults.TRAIN["runtime"]["workers"]
    assert runcfg.get({}, "runtime.deterministic") is defaults.TRAIN["runtime"]["deterministic"]


def test_a_groups_override_section_gets_no_defaults() -> None:
    """Why the defaults are not the schema's: a group that sets one runtime key keeps the
    top-level values of the others instead of their defaults."""
    params = demo_params()
    params["train"]["runtime"].update(deterministic=False, seed=7)
    params["experiments"]["demo"]["train"]["runtime"] = {"threads": 1, "workers": 0}
    cfg = run_protocol(params, "mini-synthetic/tam-resnet18/f8")
    assert cfg["runtime"]["deterministic"] is False and cfg["runtime"]["seed"] == 7
    assert cfg["runtime"]["threads"] == 1


def test_stage_defaults_apply_after_the_groups_stage_is_merged() -> None:
    params = demo_params()
    params["train"]["stages"]["f16"]["gamma"] = 0.5
    cfg = run_protocol(params, "mini-synthetic/tam-resnet18/f16")
    assert cfg["schedule"]["gamma"] == 0.5  # the group's f16 sets milestones, not gamma
    cfg8 = run_protocol(params, "mini-synthetic/tam-resnet18/f8")
    assert cfg8["schedule"]["gamma"] == defaults.STAGE["gamma"]
    assert cfg8["schedule"]["warmup_start_lr"] == cfg8["optim"]["lr"]


# --------------------------------------------------------------------------- model settings


def test_dropout_is_a_model_setting() -> None:
    cfg = run_protocol(demo_params(), "mini-synthetic/tam-resnet18/f8")
    assert cfg["model"] == {"dropout": 0.2} and "dropout" not in cfg["optim"]
    assert model_spec({**cfg, "num_classes": 3}).dropout == 0.2


def _old_key(params: dict) -> dict:
    """The demo written as before: dropout under optim."""
    for section in (params["train"], params["experiments"]["demo"]["train"]):
        section["optim"]["dropout"] = section.pop("model")["dropout"]
    return params


def test_the_old_dropout_key_still_trains_the_same_model(caplog) -> None:
    new, old = demo_params(), _old_key(demo_params())
    with caplog.at_level(logging.WARNING, logger="actionbench.config"):
        validate_params(old, SCHEMA, source="old.yaml")
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "train.optim.dropout is deprecated: write train.model.dropout" in m for m in messages
    )
    assert any("experiments.demo.train.model.dropout" in m for m in messages)
    for rid in ("mini-synthetic/tam-resnet18/f8", "mini-synthetic/tam-resnet18/f16"):
        assert run_protocol(old, rid) == run_protocol(new, rid)


def test_a_group_may_override_the_new_key_with_the_old_one() -> None:
    params = demo_params()
    demo = params["experiments"]["demo"]["train"]
    demo["optim"]["dropout"] = demo.pop("model")["dropout"]
    assert run_protocol(params, "mini-synthetic/tsn-resnet18/f8")["model"]["dropout"] == 0.2


def test_both_dropout_keys_in_one_section_are_refused() -> None:
    params = demo_params()
    params["train"]["optim"]["dropout"] = 0.3
    with pytest.raises(ConfigError, match=r"train\.optim\.dropout and train\.model\.dropout"):
        validate_params(params, SCHEMA)


def test_moving_dropout_changes_no_run_identity() -> None:
    """Identities recorded before the move (dropout hashed under optim) still match: a moved key
    is hashed at its old place, so no run re-trains or re-evaluates for it."""
    cfg = run_protocol(demo_params(), "mini-synthetic/tam-resnet18/f16")
    before = copy.deepcopy(cfg)
    before["optim"]["dropout"] = before.pop("model")["dropout"]
    assert protocol_digest(cfg) == protocol_digest(before)
    assert eval_fingerprint(cfg) == eval_fingerprint(before)
    changed = copy.deepcopy(cfg)
    changed["model"]["dropout"] = 0.3
    assert protocol_digest(changed) != protocol_digest(cfg)


def test_a_hand_built_config_with_the_old_key_still_builds_its_model(caplog) -> None:
    """A run.json written before the move (dropout under optim) builds the same network."""
    cfg = {**run_protocol(demo_params(), "mini-synthetic/tam-resnet18/f8"), "num_classes": 3}
    old = copy.deepcopy(cfg)
    old["optim"]["dropout"] = old.pop("model")["dropout"]
    with caplog.at_level(logging.WARNING, logger="actionbench.defaults"):
        assert model_spec(old) == model_spec(cfg)
    assert "'optim.dropout' is deprecated: write 'model.dropout'" in caplog.text
    del old["optim"]["dropout"]
    with pytest.raises(ConfigError, match="lacks required key 'model.dropout'"):
        model_spec(old)


def _doc_value(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return str(value)


def test_the_engine_docs_list_every_run_config_default() -> None:
    """docs/engine.md's table of optional run-config keys says what RUN_CONFIG holds."""
    doc = (REPO / "docs" / "engine.md").read_text().split("## Run-config keys", 1)[1]
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            keys = [k.strip(" `") for k in cells[0].split(",")]
            values = [v.strip() for v in cells[1].split(",")]
            if len(values) != len(keys):
                values = [cells[1]] * len(keys)
            rows.update(zip(keys, values, strict=True))
    for key, value in defaults.RUN_CONFIG.items():
        assert key in rows, f"docs/engine.md lacks {key}"
        documented = rows[key].removesuffix(".0")
        assert documented == _doc_value(value).removesuffix(".0"), (key, rows[key], value)


def test_a_run_saved_with_the_old_key_is_not_stale() -> None:
    """The report compares a run's saved config with params.yaml's: the move is no drift."""
    from actionbench.analysis.fairness import config_drift

    current = run_protocol(demo_params(), "mini-synthetic/tam-resnet18/f8")
    saved = defaults.at_old_places(current)
    assert saved["optim"]["dropout"] == 0.2 and "model" not in saved
    assert config_drift(saved, current) == []
    saved["optim"]["dropout"] = 0.3
    assert config_drift(saved, current) == ["model.dropout: 0.3 (run) vs 0.2 (params.yaml)"]


def test_a_jobs_defaults_lie_below_every_params_entry() -> None:
    """What a job gets when params.yaml says nothing is the lowest layer: resources.default
    wins over the rule kind's default."""
    from actionbench.cluster.jobs import kind_request

    params = demo_params()
    params["resources"] = {"default": {"mem_mb": 16000}}
    assert kind_request(params, "train").mem_mb == 16000
    assert kind_request(params, "train").runtime == defaults.RESOURCES["train"]["runtime"]
    params["resources"] = {}
    assert kind_request(params, "evaluate").mem_mb == defaults.RESOURCES["evaluate"]["mem_mb"]
    assert kind_request(params, "report").runtime == defaults.RESOURCES["default"]["runtime"]


@pytest.mark.parametrize(
    ("section", "key"),
    [("train.optim", "accum_steps"), ("evaluate", "num_crops"), ("evaluate", "batch_size")],
)
def test_protocol_numbers_planning_reads_have_no_default(section: str, key: str) -> None:
    """Planning sizes jobs from them, and the engine requires them: a params.yaml without one is
    refused before anything runs, naming it, instead of planning with a number from code."""
    params = demo_params()
    for top in (params, params["experiments"]["demo"]):  # the group's overrides, too
        node = top
        for part in section.split("."):
            node = node.get(part, {})
        node.pop(key, None)
    with pytest.raises(ConfigError, match=rf"experiments\.demo: {section}\.{key} is required"):
        validate_params(params, SCHEMA)


def test_moving_a_key_keeps_the_new_places_value() -> None:
    both = {"optim": {"dropout": 0.1, "lr": 1}, "model": {"dropout": 0.2}}
    assert defaults.at_new_places(both) == {"optim": {"lr": 1}, "model": {"dropout": 0.2}}
    assert defaults.at_old_places(both) == {"optim": {"dropout": 0.2, "lr": 1}}
    assert both["optim"]["dropout"] == 0.1  # copies: the argument is left alone
