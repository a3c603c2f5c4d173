"""Build the report (self-contained HTML + Markdown + DVC metrics/plots) from saved runs.

``build_report`` is a short sequence of named steps in two layers. Selecting and computing:
``collect`` (collect.py, artifacts.py, efficiency.py: what is on disk) and ``compute``
(contributions, tables, comparisons, significance, findings, plotdata, fairness: every number,
once). Rendering: ``draw`` (figures.py, in the colours of styles.py), ``compose`` (sections,
findings first, in prose.py's words) and render.py (HTML and Markdown from the same blocks).
The CSV/JSON files carry the same numbers as the pages, so they never disagree.

Outputs (``out_dir``): index.html, report.md, metrics.json, results.csv, contributions.csv,
contribution_pairs.csv, pairwise.csv, tables/<table>.csv, plots/<figure>.csv,
figures/<figure>.png|svg. Inputs besides the runs: ``profile.csv``/``profile/*`` and
``benchmarks/*.json`` in ``inputs_dir`` (default ``out_dir``), see efficiency.py.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from actionbench import defaults
from actionbench.analysis import (
    artifacts,
    comparisons,
    efficiency,
    fairness,
    figures,
    plotdata,
    prose,
    provenance,
    published,
    tables,
)
from actionbench.analysis import findings as findings_mod
from actionbench.analysis import styles as styles_mod
from actionbench.analysis.collect import collect_runs, read_json
from actionbench.analysis.render import (
    Bullets,
    Details,
    Figure,
    Legend,
    Section,
    TableBlock,
    Text,
    render_html,
    render_markdown,
    slug,
)
from actionbench.analysis.styles import Styles
from actionbench.config import dataset_refs, expand_grid, lists_dir
from actionbench.spec import RunSpec
from actionbench.status import UP_TO_DATE, run_states

log = logging.getLogger(__name__)

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
    cfg = defaults.report(params.get("report"))["significance"]
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    cfg["tolerance"] = published.tolerance(params)
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
            # the default layout and sampling stay out of the name (the paper's rows)
            variant = [
                rec[k]
                for k, default in (("layout", "reference"), ("sampling", "uniform"))
                if rec.get(k) not in (None, default)
            ]
            name = "/".join([rec["dataset"], *variant, rec["classes"], rec["arch"]])
            entries[name] = rec
        metrics[key] = entries
    return metrics


@dataclass
class Collected:
    """Everything read from disk: the runs' results and files, profiles and benchmarks."""

    results: pd.DataFrame
    config_pairs: dict
    configs: dict
    stale: dict
    train_metrics: dict
    protocols: dict
    predictions: dict
    per_class: list
    curves: pd.DataFrame
    histories: dict
    profiles: pd.DataFrame
    profiled: pd.DataFrame
    bench: pd.DataFrame
    input_sizes: dict
    profile_src: str
    bench_src: str
    data: list = field(default_factory=list)  # data_summaries: the datasets the runs train on
    published_numbers: pd.DataFrame = field(default_factory=pd.DataFrame)  # published.load()

    @property
    def ok(self) -> pd.DataFrame:
        return self.results[self.results["status"] == "ok"]


@dataclass
class Computed:
    """Every number of the report, computed once; rendering only formats these."""

    t_results: tables.Table
    paper_tables: list
    t7_pairs: tables.Table
    t_pairs: tables.Table
    t_protocol: tables.Table
    t_published: tables.Table
    beside: pd.DataFrame  # published.beside: runs next to the published numbers they match
    pair_frame: pd.DataFrame
    long7: pd.DataFrame
    pairs7: pd.DataFrame
    plots: dict
    findings: findings_mod.Findings
    groups: dict  # protocol-difference group key -> (title, messages)


def collect(params: dict, runs_dir: Path, inputs_dir: Path) -> Collected:
    """Read the runs the report covers and the profile/benchmark files."""
    runs = select_runs(params)
    states = run_states(params, runs)  # what `actionbench status` says: one view of each run
    results = collect_runs(runs, runs_dir, states)
    ok_ids = list(results.loc[results["status"] == "ok", "run_id"])
    config_pairs = artifacts.run_configs(params, runs, runs_dir)
    configs = {rid: saved or current for rid, (saved, current) in config_pairs.items()}
    stale = {
        rid: fairness.config_drift(saved, current) for rid, (saved, current) in config_pairs.items()
    }
    results["stale"] = results["run_id"].map(lambda r: bool(stale.get(r)))
    train_metrics = {rid: artifacts.train_metrics(runs_dir, rid) for rid in results["run_id"]}
    protocols = {}
    for _, r in results.iterrows():
        metrics = train_metrics.get(r["run_id"]) or {}
        clips, crops = (
            (_value(r.get("eval_clips")), _value(r.get("eval_crops")))
            if r["status"] == "ok"
            else (None, None)
        )
        protocols[r["run_id"]] = fairness.protocol_record(
            r["run_id"], configs, clips, crops, metrics.get("epochs"), metrics
        )
    predictions = {rid: artifacts.load_predictions(runs_dir, rid) for rid in ok_ids}
    profile_paths = efficiency.profile_files(inputs_dir)
    profiles = efficiency.load_profiles(profile_paths)
    input_sizes = {
        rid: (cfg or {}).get("data", {}).get("input_size") for rid, cfg in configs.items()
    }
    return Collected(
        results=results,
        config_pairs=config_pairs,
        configs=configs,
        stale=stale,
        train_metrics=train_metrics,
        protocols=protocols,
        predictions=predictions,
        per_class=[artifacts.load_per_class(runs_dir, rid, predictions.get(rid)) for rid in ok_ids],
        curves=artifacts.load_curves(ok_ids, runs_dir),
        histories=artifacts.load_histories(list(results["run_id"]), runs_dir),
        profiles=profiles,
        profiled=efficiency.attach_profiles(results, profiles, input_sizes),
        bench=efficiency.load_benchmarks(inputs_dir / "benchmarks"),
        input_sizes=input_sizes,
        profile_src=(
            ", ".join(str(p) for p in profile_paths)
            if profile_paths
            else f"{inputs_dir / 'profile.csv'} or {inputs_dir / 'profile'}/*.csv"
        ),
        bench_src=f"{inputs_dir / 'benchmarks'}/*.json",
        data=data_summaries(params, results),
        published_numbers=published.load(),
    )


def _list_counts(directory: Path) -> dict[str, int] | None:
    """Classes and videos per split of a dataset's lists (None when they are not built yet)."""
    counts = {}
    for name in ("classes", "train", "val"):
        path = directory / f"{name}.csv"
        if not path.is_file():
            return None
        with path.open() as fh:
            counts[name] = sum(1 for line in fh.read().splitlines()[1:] if line.strip())
    return counts


def data_summaries(params: dict, results: pd.DataFrame) -> list[dict]:
    """The datasets the runs train on, each mini set followed by the set it is drawn from.

    A mini set: its classes and videos per split, from its lists, and how its classes were
    chosen; a set built from raw data: the counts ``actionbench lists`` wrote to its
    ``summary.json`` (indexed, extracted, excluded by reason, per split). Datasets whose lists
    are not built yet are left out."""
    refs = dataset_refs(params)
    runs = results["dataset"].value_counts()
    rows: list[dict] = []
    for name in sorted(runs.index):
        ref = refs.get(name)
        if ref is None:
            continue
        trained = prose.trained_on(int(runs[name]))
        if ref.is_mini:
            counts = _list_counts(lists_dir(name))
            if counts is not None:
                mini = params["datasets"][ref.base]["mini"]
                rows.append({"dataset": name, "role": trained, "from": ref.base, **counts,
                             "how": prose.mini_selection(mini)})  # fmt: skip
        summary = read_json(lists_dir(ref.base) / "summary.json")
        if summary is not None and not any(r["dataset"] == ref.base for r in rows):
            role = prose.source_of(name) if ref.is_mini else trained
            rows.append({"dataset": ref.base, "role": role, **summary})
    return rows


def data_table(rows: list[dict]) -> tables.Table:
    """One row per dataset: its role, classes and videos per split; for a set built from raw
    data, the videos indexed, extracted and excluded (by reason)."""

    def count(value) -> str:
        return "–" if value is None else str(value)

    frame = pd.DataFrame(
        [
            {
                "dataset": r["dataset"],
                "used as": r["role"],
                "classes": count(r.get("classes")),
                "train / val videos": f"{count(r.get('train'))} / {count(r.get('val'))}",
                "classes chosen": r.get("how", "–"),
                "annotation rows": count(r.get("annotation_rows")),
                "indexed": count(r.get("indexed")),
                "extracted": count(r.get("extracted")),
                "excluded": count(r.get("excluded")),
                "excluded by reason": "; ".join(
                    f"{k}: {v}" for k, v in (r.get("excluded_by_reason") or {}).items()
                )
                or "–",
                "annotation rows skipped": count(r.get("annotation_rows_skipped")),
            }
            for r in rows
        ]
    )
    return tables.Table("data", "Data", frame.set_index("dataset") if rows else frame)


def comparison_groups(c: Collected, tp_pairs: pd.DataFrame) -> dict:
    """The protocol differences of each kind of comparison the figures make, stated once.

    Key -> (title, messages); a figure names the key of the comparison it makes (or
    ``table:<key>`` when it compares the runs of a table, whose flags sit under the table)."""
    ok = c.ok
    frames_of = dict(zip(c.results["run_id"], c.results["frames"], strict=True))
    by_dataset = {d: list(g["run_id"]) for d, g in ok.groupby("dataset")}

    def dataset_flags(studied):
        return [
            f.message()
            for f in fairness.group_flags(
                c.protocols,
                by_dataset,
                studied,
                explained_by=frames_of,
                explanation="follows the input frames: progressive training, paper Table 12",
            )
        ]

    arch_groups = {
        f"{k[0]}, {k[2]}, f={k[3]}{', tp' if k[4] else ''}": list(g["run_id"])
        for k, g in ok.groupby(["dataset", "sampling", "backbone", "frames", "tp"])
    }
    tp_groups = {
        f"{r.run_tp} vs {r.run_no_tp}": [r.run_tp, r.run_no_tp] for r in tp_pairs.itertuples()
    }
    not_eval = [f for f in fairness.FACTORS if f not in ("eval_protocol", "sampling")]
    return {
        "datasets": (
            "All runs of a dataset (backbone, frames and weights are what the figures vary)",
            dataset_flags(("backbone", "frames", "weights")),
        ),
        "modules": (
            "Modules at the same dataset, backbone and frames",
            [f.message() for f in fairness.group_flags(c.protocols, arch_groups)],
        ),
        "tp": (
            "Temporal-pooling pairs",
            [f.message() for f in fairness.group_flags(c.protocols, tp_groups)],
        ),
        "clips": (
            "All runs of a dataset, evaluation protocol aside (accuracy vs clips)",
            dataset_flags(not_eval),
        ),
    }


def compute(c: Collected, settings: dict) -> Computed:
    """Tables, pairwise tests, contributions, plot data, findings and protocol groups."""
    results, protocols = c.results, c.protocols
    contrib = tables.contributions(results, protocols)
    t7, t7_pairs = tables.table7(results, protocols, contrib)
    paper_tables = [
        tables.table5(results, protocols),
        tables.table6(results, protocols),
        t7,
        tables.table4(results, c.configs, protocols),
        tables.table10(results, c.profiled, not c.profiles.empty, c.profile_src),
        tables.table8(c.bench, c.profiles, results, c.bench_src, c.input_sizes),
    ]
    pair_frame = comparisons.pairwise(
        results,
        c.predictions,
        protocols,
        settings["resamples"],
        settings["seed"],
        settings["alpha"],
    )
    beside = published.beside(results, c.published_numbers, settings["tolerance"])
    runs = plotdata.accuracy_vs_frames(results)
    plots = {
        "accuracy_vs_frames": runs,
        "acc_vs_clips": plotdata.acc_vs_clips(c.curves, results, runs),
        "tp_gain": plotdata.tp_gain(results),
        "per_class": plotdata.per_class(c.per_class, results, runs),
        "accuracy_vs_gflops": plotdata.accuracy_vs_gflops(c.profiled),
    }
    return Computed(
        t_results=tables.results_table(results, c.stale, beside, settings["tolerance"]),
        paper_tables=paper_tables,
        t7_pairs=t7_pairs,
        t_pairs=comparisons.as_table(
            pair_frame, settings["alpha"], settings["resamples"], settings["seed"]
        ),
        t_protocol=tables.protocol_table(results, protocols),
        t_published=tables.published_table(beside, settings["tolerance"]),
        beside=beside,
        pair_frame=pair_frame,
        long7=contrib[0],
        pairs7=contrib[1],
        plots=plots,
        findings=findings_mod.select_findings(pair_frame, results, settings["alpha"]),
        groups=comparison_groups(c, plots["tp_gain"]),
    )


@dataclass
class Drawn:
    png: Path
    caption: str
    group: str | None  # key of the protocol-difference group it compares within


def draw(c: Collected, k: Computed, fig_dir: Path, styles: Styles) -> tuple[Drawn | None, list]:
    """(the headline figure, the other figures); figures with nothing to draw are left out."""
    plots, results = k.plots, c.results
    headline = figures.temporal_vs_spatial(results, fig_dir, "clip", styles)
    captions = prose.FIGURE_CAPTIONS
    specs = [
        (figures.group_accuracy_bars(results, fig_dir, "clip"), "group_bars_clip", "datasets"),
        (figures.group_accuracy_bars(results, fig_dir, "video"), "group_bars_video", "datasets"),
        (
            figures.accuracy_vs_frames(plots["accuracy_vs_frames"], fig_dir, "clip_top1", styles),
            "frames_clip",
            "modules",
        ),
        (
            figures.accuracy_vs_frames(plots["accuracy_vs_frames"], fig_dir, "video_top1", styles),
            "frames_video",
            "modules",
        ),
        (figures.tp_gain(plots["tp_gain"], fig_dir, "clip", styles), "tp_gain", "tp"),
        (figures.contribution_bars(k.long7, fig_dir, "clip"), "table7_bars", "table:table7"),
        (figures.accuracy_vs_clips(plots["acc_vs_clips"], fig_dir, styles), "clips", "clips"),
        (
            figures.accuracy_vs_gflops(plots["accuracy_vs_gflops"], fig_dir, "video_top1", styles),
            "gflops",
            "datasets",
        ),
        (
            figures.per_class_accuracy(plots["per_class"], fig_dir, "clip", styles=styles),
            "per_class",
            "datasets",
        ),
        (figures.training_curves(c.histories, fig_dir, styles), "training", None),
    ]
    head = Drawn(headline, captions["headline"], "datasets") if headline else None
    return head, [Drawn(p, captions[key], g) for p, key, g in specs if p is not None]


def write_data_files(out_dir: Path, c: Collected, k: Computed) -> None:
    """The CSV files DVC and other tools read: the same numbers as the pages."""
    _write_csv(c.results, out_dir / "results.csv")
    _write_csv(k.long7, out_dir / "contributions.csv")
    _write_csv(k.pairs7, out_dir / "contribution_pairs.csv")
    _write_csv(k.pair_frame, out_dir / "pairwise.csv")
    for t in k.paper_tables + [k.t_protocol, k.t_published]:
        if t.shown and t.data is not None:
            _write_csv(t.data, out_dir / "tables" / f"{t.key}.csv")
    for name in PLOT_FILES:
        if not k.plots[name].empty:
            _write_csv(k.plots[name], out_dir / "plots" / f"{name}.csv")


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
    paths = _prepare(out_dir)
    runs_dir = Path(params["project"]["runs_dir"])
    settings = _settings(params, {"resamples": resamples, "seed": seed, "alpha": alpha})

    collected = collect(params, runs_dir, Path(inputs_dir) if inputs_dir else out_dir)
    computed = compute(collected, settings)
    styles = Styles(collected.results)
    headline, figs = draw(collected, computed, paths["figures"], styles)
    write_data_files(out_dir, collected, computed)
    repo = Path(params_path).resolve().parent if params_path else Path.cwd()
    sections = compose(collected, computed, headline, figs, styles)
    sections.append(_reproducibility(collected, repo, params_path))

    title = defaults.report(params.get("report"))["title"]
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    subtitle = f"Generated {generated} from {runs_dir}."
    _atomic_write(paths["html"], render_html(title, sections, subtitle))
    _atomic_write(paths["markdown"], render_markdown(title, sections, subtitle))
    _atomic_write(
        paths["metrics"],
        json.dumps(_metrics_json(collected.results, computed.long7), indent=2, sort_keys=True),
    )
    log.info("report written to %s", paths["html"].resolve())
    return paths


def _prepare(out_dir: Path) -> dict[str, Path]:
    """The output paths; our own figures/plots/tables of an earlier build are removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fig_dir, plot_dir, table_dir = out_dir / "figures", out_dir / "plots", out_dir / "tables"
    for directory, patterns in (
        (fig_dir, ("*.png", "*.svg", "*.styles.json")),
        (plot_dir, ("*.csv",)),
        (table_dir, ("*.csv",)),
    ):
        _clear(directory, patterns)
    return {
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


def partial_banner(results: pd.DataFrame) -> Section | None:
    """'Partial report' first on the page when a run of the grid has no current result (not
    trained, failed, interrupted, evaluation of an earlier model) or an out-of-date one, naming
    each and why: the same states ``actionbench status`` prints, and the runs the next
    ``snakemake --profile local all`` runs (None: the study is complete)."""
    if "state" not in results:
        return None
    behind = results[~results["state"].isin(UP_TO_DATE)]
    if behind.empty:
        return None
    lines = [f"{r.run_id}: {r.state} — {r.state_detail}" for r in behind.itertuples()]
    note = (
        f"This report is partial: {len(behind)} of {len(results)} runs have no current result "
        "(their numbers are missing from the tables, or flagged as out of date). Run "
        "`snakemake --profile local all` (or `--profile slurm`) to run what is missing; "
        "`actionbench status` lists the same runs."
    )
    return Section("Partial report", [Text(note, "missing"), Bullets(lines, "missing")])


def compose(
    c: Collected, k: Computed, headline: Drawn | None, figs: list[Drawn], styles: Styles
) -> list[Section]:
    """The page's sections, findings first: rendering of what compute() and draw() made."""
    anchors = {key: f"protocol-{key}" for key in k.groups}
    by_key = {t.key: t for t in k.paper_tables}

    def figure(d: Drawn) -> Figure:
        link = None
        if d.group and d.group.startswith("table:"):
            t = by_key.get(d.group.split(":", 1)[1])
            if t is not None and t.shown and t.flags:  # the table's own list, not a copy
                link = (f"flags-{slug(t.key)}", f"the flags under {t.title}")
        elif d.group:
            title, messages = k.groups[d.group]
            link = (anchors[d.group], title) if messages else None
        return Figure(d.png, d.caption, styles_mod.read_used(d.png), link)

    used: dict = {}
    for d in ([headline] if headline else []) + figs:
        used.update(styles_mod.read_used(d.png))
    legend = {s.label: {"color": s.color, "marker": s.marker} for s in styles.models.values()}
    legend = {label: m for label, m in legend.items() if label in used}
    lines = prose.findings_lines(k.findings)
    if not k.beside.empty:
        lines.append(prose.published_line(k.beside, k.t_published.title))
    findings_blocks: list = [Bullets(lines, "findings")]
    if headline:
        findings_blocks.append(figure(headline))
    findings_blocks.append(Legend(legend))

    ok, results = c.ok, c.results
    summary = prose.summary_lines(len(results), len(ok))
    banner = partial_banner(results)
    sections = [banner] if banner else []
    sections += [
        Section("Findings", findings_blocks),
        Section("Summary", [Text(s) for s in summary]),
    ]
    if c.data:
        sections.append(
            Section(
                "Data",
                [
                    Text(prose.DATA_NOTE, "note"),
                    TableBlock(data_table(c.data), heading=False),
                ],
            )
        )
    sections += [
        Section("Accuracy (%)", [TableBlock(k.t_results, heading=False)]),
    ]
    if k.t_published.shown:
        sections.append(
            Section("Published beside measured", [TableBlock(k.t_published, heading=False)])
        )
    for t in [t for t in k.paper_tables if t.shown]:
        blocks: list = [TableBlock(t, heading=False)]
        title = t.title
        if t.key == "table7":
            if k.t7_pairs.shown:
                blocks.append(TableBlock(k.t7_pairs))
            title = "Spatial and temporal contributions (Table 7)"
        sections.append(Section(title, blocks))
    sections.append(Section("Pairwise comparisons", [TableBlock(k.t_pairs, heading=False)]))
    sections.append(Section("Figures", [Legend(legend)] + [figure(d) for d in figs]))
    flagged = [(key, title, msgs) for key, (title, msgs) in k.groups.items() if msgs]
    if flagged:
        sections.append(
            Section(
                "Protocol differences",
                [Text(prose.PROTOCOL_DIFFERENCES_NOTE, "note")]
                + [
                    Bullets(msgs, "flags", f"⚠ {title}:", anchors[key])
                    for key, title, msgs in flagged
                ],
            )
        )
    missing = [t for t in k.paper_tables if not t.shown]
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
    sections.append(Section("Protocol of each run", [TableBlock(k.t_protocol, heading=False)]))
    return sections


def _kv_table(key: str, items: dict[str, str], name: str = "item") -> tables.Table:
    frame = pd.DataFrame({"value": list(items.values())}, index=pd.Index(list(items), name=name))
    return tables.Table(key, key, frame)


def _reproducibility(c: Collected, repo: Path, params_path) -> Section:
    code = provenance.git_info(repo)
    if params_path:
        code["params.yaml sha256"] = provenance.file_sha256(Path(params_path))
    blocks: list = [
        Text("Code and configuration of this report's checkout", "note"),
        TableBlock(_kv_table("code", code), False),
    ]
    identities = provenance.run_identity(c.train_metrics)
    if identities:
        blocks += [
            Text(
                "What each run is made of, as its train job recorded it (train_metrics.json "
                "'identity', 'final', 'code'): the digests of its settings (the whole "
                "progressive chain), train and class lists (each row names its video's frame "
                "record), initial weights and final.pt, and the code that trained it. Snakemake, "
                "the resume check and `actionbench status` compare the same identity "
                "(docs/reruns.md).",
                "note",
            ),
            TableBlock(
                tables.Table(
                    "run_identity", "run identity", pd.DataFrame(identities).set_index("run")
                ),
                False,
            ),
        ]
    missing_code = sum(
        1 for rid in c.results["run_id"] if not (c.train_metrics.get(rid) or {}).get("code")
    )
    if missing_code:
        blocks.append(
            Text(
                f"{missing_code} run(s) record no code version (no 'code' in train_metrics.json): "
                "which commit trained them is unknown.",
                "missing",
            )
        )
    blocks += [
        Text("Packages (this report's environment)", "note"),
        TableBlock(_kv_table("packages", provenance.package_versions(), "package"), False),
        Text(
            "Hardware of the machine that built this report (not necessarily the one that "
            "trained the runs)",
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
    for rid in c.results["run_id"]:
        saved, current = c.config_pairs.get(rid, (None, None))
        cfg = saved or current
        if cfg is None:
            continue
        source = "config.json" if saved else "params.yaml (not trained yet)"
        drift = c.stale.get(rid) or []
        summary = f"{rid} — {source}" + (
            f" — STALE: {len(drift)} setting(s) changed in params.yaml since" if drift else ""
        )
        body = json.dumps(cfg, indent=2, sort_keys=True)
        if drift:
            body = "changed since training:\n  " + "\n  ".join(drift) + "\n\n" + body
        blocks.append(Details(summary, body, "json"))
    return Section("Reproducibility", blocks)
