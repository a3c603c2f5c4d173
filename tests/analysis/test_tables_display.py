"""Every table builder's display (title, HTML, Markdown, notes, flags, missing) on one fixed set
of runs, compared with tests/expected/tables_display.txt.

The file pins what the report shows, so a refactoring of the builders (moving them between
modules, sharing helpers) shows up as a diff here. A change meant to alter a table rewrites the
file with ``ACTIONBENCH_UPDATE_EXPECTED=1 python -m pytest tests/analysis/test_tables_display.py``
and the diff is reviewed with the change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from test_tables import BASE as TABLES_BASE
from test_tables import write_model_benchmarks

from actionbench.analysis import efficiency, fairness, published, tables
from actionbench.analysis.render import table_html, table_markdown

EXPECTED = Path(__file__).resolve().parents[1] / "expected" / "tables_display.txt"

BASE = {**TABLES_BASE, "layout": "reference"}  # the runs of test_tables.py, and a layout

# the paper's Table 5 (Mini-SSV2) and Table 6 (ResNet18) numbers, plus runs of every other kind
ROWS = [
    {"backbone": "inceptionv1", "arch": "tsn", "clip_top1": 33.1},
    {"backbone": "inceptionv1", "arch": "i3d", "clip_top1": 56.4},
    {"backbone": "inceptionv1", "arch": "tam", "clip_top1": 59.7},
    {"arch": "tsn", "clip_top1": 33.9, "clip_top1_temporal": 20.0, "clip_top1_spatial": 47.8},
    {"arch": "i3d", "clip_top1": 62.6, "clip_top1_temporal": 60.0, "clip_top1_spatial": 65.2},
    {"arch": "tam", "clip_top1": 65.4, "clip_top1_temporal": 64.0, "clip_top1_spatial": 66.8},
    {"arch": "tsm", "clip_top1": 64.1},
    {"arch": "tsn", "frames": 16, "clip_top1": 35.3},
    {"arch": "tam", "frames": 16, "clip_top1": 68.6},
    {"arch": "tam", "tp": True, "clip_top1": 66.0},
    {"arch": "i3d", "tp": True, "clip_top1": 63.1},
    {"arch": "tam", "backbone": "resnet18", "clip_top1": 59.1},
    {"arch": "tam", "backbone": "resnet18", "tam_locations": "top_half", "clip_top1": 59.7},
    {"arch": "tam", "backbone": "resnet18", "tam_locations": "bottom_half", "clip_top1": 56.5},
    {"arch": "tam", "backbone": "resnet18", "tam_locations": "uniform_half", "clip_top1": 59.4},
    {"arch": "tsn", "backbone": "resnet18", "clip_top1": 30.2},
    {"dataset": "ucf101", "arch": "tam", "frames": 32, "sampling": "dense", "clip_top1": 95.1},
    {"dataset": "ucf101", "arch": "i3d", "frames": 32, "sampling": "dense", "clip_top1": 97.1},
    {"arch": "nln", "status": "not trained", "clip_top1": float("nan")},
]


def _results() -> pd.DataFrame:
    out = []
    for r in ROWS:
        row = {**BASE, **r}
        tp = "-tp" if row["tp"] else ""
        dense = "-dense" if row["sampling"] == "dense" else ""
        loc = "" if row["tam_locations"] == "all" else f"-{row['tam_locations']}"
        row["run_id"] = (
            f"{row['dataset']}/{row['arch']}-{row['backbone']}{tp}{dense}{loc}/f{row['frames']}"
        )
        row["video_top1"] = row["clip_top1"] + 1.5
        for g in ("temporal", "spatial"):
            if f"clip_top1_{g}" in row:
                row[f"video_top1_{g}"] = row[f"clip_top1_{g}"] + 1.0
        row["eval_clips"], row["eval_crops"], row["epochs"] = 10, 1, 75
        out.append(row)
    return pd.DataFrame(out)


def _configs(results: pd.DataFrame) -> dict[str, dict]:
    configs = {}
    for r in results.itertuples():
        init = {"kind": "imagenet", "path": f"{r.backbone}.pth"}
        if r.dataset == "ucf101":
            model = r.run_id.split("/")[1].replace("-dense", "")
            init = {
                "kind": "checkpoint",
                "new_head": True,
                "source_run": f"kinetics400/{model}/f32",
            }
        elif r.frames == 16:
            init = {"kind": "checkpoint", "source_run": r.run_id.replace("/f16", "/f8")}
        configs[r.run_id] = {
            "backbone": r.backbone,
            "frames": r.frames,
            "sampling": r.sampling,
            "init": init,
            "schedule": {"name": "cosine", "epochs": 100 if r.arch == "tsm" else 75},
            "optim": {"lr": 0.01, "batch_size": 72},
            "eval": {"num_clips": 10, "num_crops": 1},
            "data": {"input_size": 224, "scale_size": 256},
        }
    return configs


def _profiles_and_bench(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    (tmp_path / "profile").mkdir()
    pd.DataFrame(
        [
            {"model": f"{a}-resnet50", "arch": a, "backbone": "resnet50",
             "temporal_pooling": False, "frames": 8, "size": 224, "params": p, "gflops": g}
            for a, p, g in (("tsn", 23686295, 32.7), ("tam", 23705000, 32.8))
        ]
    ).to_csv(tmp_path / "profile" / "f8.csv", index=False)  # fmt: skip
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    write_model_benchmarks(bench)
    profiles = efficiency.load_profiles(efficiency.profile_files(tmp_path))
    return profiles, efficiency.load_benchmarks(bench)


def _show(t) -> str:
    parts = [f"## {t.key}: {t.title}"]
    if t.shown:
        parts += [table_markdown(t.frame), table_html(t.frame)]
    parts += [f"note: {n}" for n in t.notes] + [f"flag: {f}" for f in t.flags]
    if t.missing:
        parts.append(f"missing: {t.missing}")
    return "\n".join(parts) + "\n"


def displayed(tmp_path: Path) -> str:
    """Every table the report shows, built from the fixed runs, as one text."""
    results = _results()
    configs = _configs(results)
    protocols = {rid: fairness.protocol_record(rid, configs) for rid in configs}
    profiles, bench = _profiles_and_bench(tmp_path)
    profiled = efficiency.attach_profiles(results, profiles)
    t7, t7_pairs = tables.table7(results, protocols, tables.contributions(results))
    beside = published.beside(results, published.load(), 1.0)
    run_inputs = {rid: 224 for rid in results["run_id"]}
    run_inputs["mini-ssv2/tam-resnet50/f8"] = 112
    shown = [
        tables.results_table(results, {"mini-ssv2/tsm-resnet50/f8": ["schedule.epochs"]}),
        tables.table5(results, protocols),
        tables.table6(results, protocols),
        t7,
        t7_pairs,
        tables.table4(results, configs, protocols),
        tables.table10(results, profiled, True, "profile/f8.csv"),
        tables.table8(bench, profiles, results, "benchmarks/*.json", run_inputs),
        tables.protocol_table(results, protocols),
        tables.results_table(results, None, beside, 1.0),
        tables.published_table(beside, 1.0),
        # empty tables say what would fill them
        tables.table5(results[results["arch"] == "tsn"], {}),
        tables.table6(results[results["arch"] == "tsn"], {}),
        tables.table7(results[results["arch"] == "tam"], {})[0],
        tables.table4(results, {}, protocols),
        tables.table10(results, profiled, False, "profile/*.csv"),
        tables.table8(bench.iloc[0:0], profiles, results, "benchmarks/*.json"),
        tables.results_table(results, None, beside.iloc[0:0], 1.0),
        tables.published_table(beside.iloc[0:0], 1.0),
    ]
    return "\n".join(_show(t) for t in shown)


def test_displayed_tables_are_unchanged(tmp_path):
    text = displayed(tmp_path)
    if os.environ.get("ACTIONBENCH_UPDATE_EXPECTED") == "1":
        EXPECTED.write_text(text)
    expected = EXPECTED.read_text()
    if text != expected:
        got, want = text.splitlines(), expected.splitlines()
        first = next(
            (i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
            min(len(got), len(want)),
        )
        a = want[first] if first < len(want) else "<end of file>"
        b = got[first] if first < len(got) else "<end of file>"
        col = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), 0)
        start = max(0, col - 60)
        raise AssertionError(
            f"{EXPECTED.name} line {first + 1}, column {col + 1} differs:\n"
            f"  expected: ...{a[start : col + 60]}...\n"
            f"  got:      ...{b[start : col + 60]}...\n"
            "(ACTIONBENCH_UPDATE_EXPECTED=1 rewrites the file when the change is intended)"
        )
