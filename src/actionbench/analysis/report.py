"""Build the report (self-contained HTML + Markdown + DVC metrics/plots) from saved runs.

This module only orchestrates: collect (collect.py, artifacts.py), compute (contributions,
tables, comparisons, fairness, significance, efficiency, plotdata), draw (figures), describe
(provenance) and render (render.py). HTML and Markdown are rendered from the same blocks, and
the CSV/JSON files carry the same numbers, so they never disagree.

Outputs (``out_dir``): index.html, report.md, metrics.json, results.csv, contributions.csv,
contribution_pairs.csv, pairwise.csv, tables/<table>.csv, plots/<figure>.csv,
figures/<figure>.png|svg. Inputs besides the runs: ``profile.csv``/``profile/*`` and
``benchmarks/*.json`` in ``inputs_dir`` (default ``out_dir``), see efficiency.py.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from actionbench.analysis import (
    artifacts,
    comparisons,
    efficiency,
    fairness,
    figures,
    plotdata,
    provenance,
    tables,
)
from actionbench.analysis.collect import collect_runs
from actionbench.analysis.render import (
    Bullets,
    Details,
    Figure,
    Section,
    TableBlock,
    Text,
    render_html,
    render_markdown,
)
from actionbench.config import expand_grid
from actionbench.spec import RunSpec

log = logging.getLogger(__name__)

DEFAULTS = {"resamples": 1000, "seed": 0, "alpha": 0.05}
METRIC_KEYS = (
    "clip_top1",
    "clip_top1_temporal",
    "clip_top1_spatial",
    "video_top1",
    "video_top1_temporal",
    "video_top1_spatial",
    "clip_top5",
    "video_top5",
    "mean_class_acc",
    "epochs",
)
PLOT_FILES = ("accuracy_vs_frames", "acc_vs_clips", "tp_gain", "per_class", "accuracy_vs_gflops")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


def _value(v):
    """A pandas cell as a plain value (NaN -> None, 4.0 -> 4)."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    return int(v) if isinstance(v, float) and v.is_integer() else v


def select_runs(params: dict) -> dict[str, RunSpec]:
    """The runs the report covers: the enabled grid, or the groups ``report.experiments`` names
    (enabled or not: a cluster's results can be reported from a checkout that disables them)."""
    wanted = (params.get("report") or {}).get("experiments")
    if not wanted:
        return expand_grid(params)
    unknown = sorted(set(wanted) - set(params["experiments"]))
    if unknown:
        from actionbench.errors import ConfigError

        raise ConfigError(
            f"report.experiments: unknown experiment group(s) {unknown} "
            f"(known: {', '.join(params['experiments'])})"
        )
    sub = {
        **params,
        "experiments": {
            k: {**v, "enabled": True} for k, v in params["experiments"].items() if k in wanted
        },
    }
    return expand_grid(sub)


def _settings(params: dict, overrides: dict) -> dict:
    cfg = {**DEFAULTS, **((params.get("report") or {}).get("significance") or {})}
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    return cfg


def _clear(directory: Path, patterns: tuple[str, ...]) -> None:
    """Drop our own outputs of an earlier build (a figure no longer drawn must not linger)."""
    if directory.is_dir():
        for pattern in patterns:
            for path in directory.glob(pattern):
                path.unlink()


def _metrics_json(results: pd.DataFrame, long7: pd.DataFrame) -> dict:
    metrics: dict = {}
    for rid, row in results.set_index("run_id").iterrows():
        metrics[rid] = {
            k: (None if pd.isna(row.get(k)) else round(float(row[k]), 3))
            for k in METRIC_KEYS
            if k in row.index
        }
    # keyed (not lists) so `dvc metrics show` can flatten them; the paper's Table 7 = clip level
    for level, key in (("clip", "contributions"), ("video", "contributions_video")):
        if long7.empty:
            continue
        sub = long7[long7["level"] == level]
        if sub.empty:
            continue
        entries = {}
        for rec in json.loads(sub.to_json(orient="records")):
            name = f"{rec['dataset']}/{rec['classes']}/{rec['arch']}"
            if rec.get("sampling") not in (None, "uniform"):
                name = f"{rec['dataset']}/{rec['sampling']}/{rec['classes']}/{rec['arch']}"
            entries[name] = rec
        metrics[key] = entries
    return metrics


def build_report(
    params: dict,
    out_dir: str | Path,
    *,
    params_path: str | Path | None = None,
    inputs_dir: str | Path | None = None,
    resamples: int | None = None,
    seed: int | None = None,
    alpha: float | None = None,
) -> dict[str, Path]:
    """Write the report into ``out_dir``; returns the paths of its main files.

    ``params_path``: the params.yaml behind ``params`` (its hash, and the git checkout and
    dvc.lock next to it, go into the reproducibility section; default: the working directory).
    ``inputs_dir``: where profile/benchmark files are read (default ``out_dir``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig_dir, plot_dir, table_dir = out_dir / "figures", out_dir / "plots", out_dir / "tables"
    for directory, patterns in (
        (fig_dir, ("*.png", "*.svg")),
        (plot_dir, ("*.csv",)),
        (table_dir, ("*.csv",)),
    ):
        _clear(directory, patterns)
    inputs_dir = Path(inputs_dir) if inputs_dir else out_dir
    repo = Path(params_path).resolve().parent if params_path else Path.cwd()
    settings = _settings(params, {"resamples": resamples, "seed": seed, "alpha": alpha})
    runs_dir = Path(params["project"]["runs_dir"])

    # ---------------------------------------------------------------- collect
    runs = select_runs(params)
    results = collect_runs(runs, runs_dir)
    ok_ids = list(results.loc[results["status"] == "ok", "run_id"])
    config_pairs = artifacts.run_configs(params, runs, runs_dir)
    configs = {rid: saved or current for rid, (saved, current) in config_pairs.items()}
    stale = {
        rid: fairness.config_drift(saved, current) for rid, (saved, current) in config_pairs.items()
    }
    results["stale"] = results["run_id"].map(lambda r: bool(stale.get(r)))
    protocols = {}
    for _, r in results.iterrows():
        trained = (artifacts.train_metrics(runs_dir, r["run_id"]) or {}).get("epochs")
        clips, crops = (
            (_value(r.get("eval_clips")), _value(r.get("eval_crops")))
            if r["status"] == "ok"
            else (None, None)
        )
        protocols[r["run_id"]] = fairness.protocol_record(
            r["run_id"], configs, clips, crops, trained
        )
    predictions = {rid: artifacts.load_predictions(runs_dir, rid) for rid in ok_ids}
    per_class = [artifacts.load_per_class(runs_dir, rid, predictions.get(rid)) for rid in ok_ids]
    curves = artifacts.load_curves(ok_ids, runs_dir)
    histories = artifacts.load_histories(list(results["run_id"]), runs_dir)

    profile_paths = efficiency.profile_files(inputs_dir)
    profiles = efficiency.load_profiles(profile_paths)
    input_sizes = {
        rid: (cfg or {}).get("data", {}).get("input_size") for rid, cfg in configs.items()
    }
    profiled = efficiency.attach_profiles(results, profiles, input_sizes)
    bench = efficiency.load_benchmarks(inputs_dir / "benchmarks")
    profile_src = (
        ", ".join(str(p) for p in profile_paths)
        if profile_paths
        else f"{inputs_dir / 'profile.csv'} or {inputs_dir / 'profile'}/*.csv"
    )
    bench_src = f"{inputs_dir / 'benchmarks'}/*.json"

    # ---------------------------------------------------------------- tables
    t_results = tables.results_table(results, stale)
    t5 = tables.table5(results, protocols)
    t6 = tables.table6(results, protocols)
    t7, t7_pairs = tables.table7(results, protocols)
    t4 = tables.table4(results, configs, protocols)
    t10 = tables.table10(results, profiled, not profiles.empty, profile_src)
    t8 = tables.table8(bench, profiles, results, bench_src)
    pair_frame = comparisons.pairwise(
        results, predictions, protocols, settings["resamples"], settings["seed"], settings["alpha"]
    )
    t_pairs = comparisons.as_table(
        pair_frame, settings["alpha"], settings["resamples"], settings["seed"]
    )
    t_protocol = tables.protocol_table(results, protocols)
    long7, pairs7 = tables.contributions(results)

    # ---------------------------------------------------------------- figures + plot data
    data = {
        "accuracy_vs_frames": plotdata.accuracy_vs_frames(results),
        "acc_vs_clips": plotdata.acc_vs_clips(curves, results),
        "tp_gain": plotdata.tp_gain(results),
        "per_class": plotdata.per_class(per_class, results),
        "accuracy_vs_gflops": plotdata.accuracy_vs_gflops(profiled),
    }
    ok = results[results["status"] == "ok"]

    frames_of = dict(zip(results["run_id"], results["frames"], strict=True))

    def dataset_flags(studied):
        groups = {d: list(g["run_id"]) for d, g in ok.groupby("dataset")}
        return [
            f.message()
            for f in fairness.group_flags(
                protocols,
                groups,
                studied,
                explained_by=frames_of,
                explanation="follows the input frames: progressive training, paper Table 12",
            )
        ]

    arch_groups = {
        f"{k[0]}, {k[2]}, f={k[3]}{', tp' if k[4] else ''}": list(g["run_id"])
        for k, g in ok.groupby(["dataset", "sampling", "backbone", "frames", "tp"])
    }
    arch_flags = [f.message() for f in fairness.group_flags(protocols, arch_groups)]
    tp_pairs = {
        f"{r.run_tp} vs {r.run_no_tp}": [r.run_tp, r.run_no_tp]
        for r in data["tp_gain"].itertuples()
    }
    tp_flags = [f.message() for f in fairness.group_flags(protocols, tp_pairs)]
    across = ("backbone", "frames", "weights")
    everything_but_eval = [f for f in fairness.FACTORS if f not in ("eval_protocol", "sampling")]
    figs: list[tuple[Path | None, str, list[str]]] = [
        (
            figures.group_accuracy_bars(results, fig_dir, "clip"),
            "Clip-level top-1 on temporal vs spatial classes.",
            dataset_flags(across),
        ),
        (
            figures.group_accuracy_bars(results, fig_dir, "video"),
            "Video-level top-1 on temporal vs spatial classes.",
            dataset_flags(across),
        ),
        (
            figures.accuracy_vs_frames(data["accuracy_vs_frames"], fig_dir, "clip_top1"),
            "Fig. 4 style: clip-level top-1 vs input frames per module and backbone.",
            arch_flags,
        ),
        (
            figures.accuracy_vs_frames(data["accuracy_vs_frames"], fig_dir, "video_top1"),
            "Video-level top-1 vs input frames.",
            arch_flags,
        ),
        (
            figures.tp_gain(data["tp_gain"], fig_dir, "clip"),
            "Fig. 6 style: clip-level gain from temporal pooling.",
            tp_flags,
        ),
        (
            figures.contribution_bars(long7, fig_dir, "clip"),
            "Table 7 as bars (clip level): mean Φ, Ψ^ta, Ψ^ta+tp per module.",
            t7.flags,
        ),
        (
            figures.accuracy_vs_clips(data["acc_vs_clips"], fig_dir),
            "Video-level top-1 when averaging the first k clips (Fig. 8 left).",
            dataset_flags(everything_but_eval),
        ),
        (
            figures.accuracy_vs_gflops(data["accuracy_vs_gflops"], fig_dir, "video_top1"),
            "Fig. 1 style: video-level top-1 vs GFLOPs of one clip; bubble area = parameters.",
            dataset_flags(across),
        ),
        (
            figures.per_class_accuracy(data["per_class"], fig_dir, "clip"),
            "Per-class clip-level top-1, temporal vs spatial classes.",
            dataset_flags(across),
        ),
        (figures.training_curves(histories, fig_dir), "Training loss and validation top-1.", []),
    ]
    figs = [(p, c, f) for p, c, f in figs if p is not None]

    # ---------------------------------------------------------------- files for DVC / tools
    _write_csv(results, out_dir / "results.csv")
    _write_csv(long7, out_dir / "contributions.csv")
    _write_csv(pairs7, out_dir / "contribution_pairs.csv")
    _write_csv(pair_frame, out_dir / "pairwise.csv")
    paper_tables = [t5, t6, t7, t4, t10, t8]
    for t in paper_tables + [t_protocol]:
        if t.shown and t.data is not None:
            _write_csv(t.data, table_dir / f"{t.key}.csv")
    for name in PLOT_FILES:
        if not data[name].empty:
            _write_csv(data[name], plot_dir / f"{name}.csv")

    # ---------------------------------------------------------------- sections
    n_ok = len(ok_ids)
    summary = [
        f"{len(results)} runs in the grid, {n_ok} evaluated"
        + (f", {len(results) - n_ok} without results" if len(results) > n_ok else "")
        + ".",
        "Tables follow the paper's shapes (Tables 4–8, 10); only runs that exist fill them. "
        "Under a table, ⚠ lists protocol factors (backbone, frames, sampling, pretraining, "
        "evaluation clips x crops, epochs, input, optimizer) that differ between runs it "
        "compares; the pairwise section says which gaps are larger than evaluation noise.",
    ]
    sections = [
        Section("Summary", [Text(s) for s in summary]),
        Section("Accuracy (%)", [TableBlock(t_results, heading=False)]),
    ]
    shown = [t for t in paper_tables if t.shown]
    for t in shown:
        blocks: list = [TableBlock(t, heading=False)]
        if t.key == "table7" and t7_pairs.shown:
            blocks.append(TableBlock(t7_pairs))
        title = t.title
        if t.key == "table7":
            title = "Spatial and temporal contributions (Table 7)"
        sections.append(Section(title, blocks))
    sections.append(Section("Pairwise comparisons", [TableBlock(t_pairs, heading=False)]))
    sections.append(
        Section(
            "Figures",
            [
                blk
                for p, cap, flags in figs
                for blk in (
                    Figure(p, cap),
                    Bullets(
                        flags,
                        "flags",
                        "⚠ Protocol differences between the runs this figure compares:",
                    ),
                )
            ],
        )
    )
    missing = [t for t in paper_tables if not t.shown]
    if missing:
        sections.append(
            Section(
                "Tables not filled yet", [Bullets([f"{t.title}: {t.missing}" for t in missing])]
            )
        )
    failed = results[results["status"] != "ok"]
    if not failed.empty:
        sections.append(
            Section(
                "Runs without results",
                [
                    TableBlock(
                        tables.Table(
                            "missing",
                            "Runs without results",
                            failed[["run_id", "status"]].set_index("run_id").rename_axis("run"),
                        ),
                        heading=False,
                    )
                ],
            )
        )
    sections.append(Section("Protocol of each run", [TableBlock(t_protocol, heading=False)]))
    sections.append(_reproducibility(results, config_pairs, stale, repo, params_path))

    # ---------------------------------------------------------------- render + write
    title = (params.get("report") or {}).get("title", "actionbench report")
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    subtitle = f"Generated {generated} from {runs_dir}."
    paths = {
        "html": out_dir / "index.html",
        "markdown": out_dir / "report.md",
        "metrics": out_dir / "metrics.json",
        "table": out_dir / "results.csv",
        "contributions": out_dir / "contributions.csv",
        "pairwise": out_dir / "pairwise.csv",
        "figures": fig_dir,
        "plots": plot_dir,
        "tables": table_dir,
    }
    _atomic_write(paths["html"], render_html(title, sections, subtitle))
    _atomic_write(paths["markdown"], render_markdown(title, sections, subtitle))
    _atomic_write(
        paths["metrics"], json.dumps(_metrics_json(results, long7), indent=2, sort_keys=True)
    )
    log.info("report written to %s", paths["html"].resolve())
    return paths


def _kv_table(key: str, items: dict[str, str], name: str = "item") -> tables.Table:
    frame = pd.DataFrame({"value": list(items.values())}, index=pd.Index(list(items), name=name))
    return tables.Table(key, key, frame)


def _reproducibility(results, config_pairs, stale, repo: Path, params_path) -> Section:
    code = provenance.git_info(repo)
    if params_path:
        code["params.yaml sha256"] = provenance.file_sha256(Path(params_path))
    blocks: list = [
        Text("Code and configuration", "note"),
        TableBlock(_kv_table("code", code), False),
        Text("Packages", "note"),
        TableBlock(_kv_table("packages", provenance.package_versions(), "package"), False),
        Text(
            "Hardware of the machine that built this report (training hardware: each run's "
            "MLflow record)",
            "note",
        ),
        TableBlock(_kv_table("hardware", provenance.hardware()), False),
    ]
    outs = provenance.dvc_lock_outputs(repo / "dvc.lock")
    if outs:
        frame = pd.DataFrame(outs).set_index(["stage", "path"])
        blocks += [
            Text("Data and model hashes recorded in dvc.lock", "note"),
            TableBlock(tables.Table("dvc", "dvc.lock", frame), False),
        ]
    else:
        blocks.append(
            Text(f"No dvc.lock in {repo}: data hashes unknown (run `dvc repro`).", "missing")
        )
    blocks.append(
        Text(
            "Resolved config of each run (as trained: its config.json; runs not "
            "trained yet: what params.yaml gives them now)",
            "note",
        )
    )
    for rid in results["run_id"]:
        saved, current = config_pairs.get(rid, (None, None))
        cfg = saved or current
        if cfg is None:
            continue
        source = "config.json" if saved else "params.yaml (not trained yet)"
        drift = stale.get(rid) or []
        summary = f"{rid} — {source}" + (
            f" — STALE: {len(drift)} setting(s) changed in params.yaml since" if drift else ""
        )
        body = json.dumps(cfg, indent=2, sort_keys=True)
        if drift:
            body = "changed since training:\n  " + "\n  ".join(drift) + "\n\n" + body
        blocks.append(Details(summary, body, "json"))
    return Section("Reproducibility", blocks)
