"""Build the report (self-contained HTML + Markdown + DVC metrics/plots) from saved runs.

Why one module: the HTML and Markdown show the same tables in the same order, and the DVC
files (metrics.json, plot CSVs) carry the same numbers, so they never disagree.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from actionbench import __version__
from actionbench.analysis import figures
from actionbench.analysis.collect import collect_runs
from actionbench.analysis.contributions import contribution_table, pair_with_tsn
from actionbench.config import expand_grid

log = logging.getLogger(__name__)

RESULT_COLUMNS = {
    "run_id": "run",
    "status": "status",
    "clip_top1": "clip top-1",
    "clip_top1_temporal": "clip top-1 temporal",
    "clip_top1_spatial": "clip top-1 spatial",
    "video_top1": "video top-1",
    "video_top1_temporal": "video top-1 temporal",
    "video_top1_spatial": "video top-1 spatial",
    "clip_top5": "clip top-5",
    "eval_clips": "clips",
    "eval_crops": "crops",
    "epochs": "epochs",
}


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 1.5 or value == 0 else f"{value:.3f}"
    return str(value)


def _table(frame: pd.DataFrame, columns: dict[str, str]) -> tuple[str, str]:
    """(markdown, html) renderings of the same table."""
    cols = [c for c in columns if c in frame.columns]
    head = [columns[c] for c in cols]
    rows = [[_fmt(r[c]) for c in cols] for _, r in frame.iterrows()]
    md = "| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n"
    md += "".join("| " + " | ".join(r) + " |\n" for r in rows)
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in rows
    )
    return md, f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _img_tag(png: Path) -> str:
    data = base64.b64encode(png.read_bytes()).decode()
    return f'<img alt="{html.escape(png.stem)}" src="data:image/png;base64,{data}"/>'


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"actionbench": __version__, "python": platform.python_version()}
    for pkg in ("torch", "torchvision", "snakemake", "dvc", "mlflow", "pandas", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _load_curves(results: pd.DataFrame, runs_dir: Path) -> pd.DataFrame:
    frames = []
    for rid in results.loc[results["status"] == "ok", "run_id"]:
        path = runs_dir / rid / "eval" / "acc_vs_clips.csv"
        if path.is_file():
            curve = pd.read_csv(path)
            curve = curve.rename(columns={c: c.replace("num_clips", "clips") for c in curve.columns})
            if "top1" in curve and curve["top1"].max() <= 1.0:
                curve["top1"] = curve["top1"] * 100
            curve["run_id"] = rid
            frames.append(curve)
    return pd.concat(frames) if frames else pd.DataFrame(columns=["run_id", "clips", "top1"])


def _load_histories(results: pd.DataFrame, runs_dir: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for rid in results["run_id"]:
        path = runs_dir / rid / "history.csv"
        if path.is_file():
            out[rid] = pd.read_csv(path)
    return out


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(text)
    os.replace(tmp, path)


def build_report(params: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write index.html, report.md, metrics.json, results.csv and figures into out_dir."""
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    runs_dir = Path(params["project"]["runs_dir"])
    runs = expand_grid(params)
    results = collect_runs(runs, runs_dir)
    results.to_csv(out_dir / "results.csv", index=False)

    sections: list[tuple[str, str, str]] = []  # (title, markdown, html)

    md, htm = _table(results, RESULT_COLUMNS)
    sections.append(("Accuracy (%)", md, htm))

    group_tables = []
    for metric, label in (("clip_top1", "all classes"), ("clip_top1_temporal", "temporal classes"),
                          ("clip_top1_spatial", "spatial classes")):
        if results[metric].notna().any():
            table = contribution_table(pair_with_tsn(results, metric))
            table.insert(1, "classes", label)
            group_tables.append(table)
    if group_tables:
        contrib = pd.concat(group_tables, ignore_index=True)
        contrib.to_csv(out_dir / "contributions.csv", index=False)
        md, htm = _table(contrib, {"dataset": "dataset", "classes": "classes", "arch": "module",
                                   "phi": "Φ (spatial)", "psi_ta": "Ψ^ta (temporal)",
                                   "psi_ta_tp": "Ψ^ta+tp", "n_models": "models"})
        note = ("Φ = S_TSN / max(S_a, S_TSN), Ψ = (S_a − S_TSN) / (100 − S_TSN), clip-level top-1, "
                "averaged over backbones and frame counts (paper, Table 7).")
        sections.append(("Spatial and temporal contributions (Table 7)", f"{note}\n\n{md}",
                         f"<p>{html.escape(note)}</p>{htm}"))
    else:
        contrib = pd.DataFrame()

    pngs = [
        figures.group_accuracy_bars(results, fig_dir, "clip"),
        figures.group_accuracy_bars(results, fig_dir, "video"),
        figures.accuracy_vs_frames(results, fig_dir, "clip_top1"),
        figures.accuracy_vs_clips(_load_curves(results, runs_dir), fig_dir),
        figures.training_curves(_load_histories(results, runs_dir), fig_dir),
    ]
    pngs = [p for p in pngs if p is not None]
    sections.append((
        "Figures",
        "\n".join(f"![{p.stem}](figures/{p.name})" for p in pngs),
        "".join(f"<figure>{_img_tag(p)}<figcaption>{html.escape(p.stem)}</figcaption></figure>"
                for p in pngs),
    ))

    failed = results[results["status"] != "ok"]
    if not failed.empty:
        md, htm = _table(failed, {"run_id": "run", "status": "status"})
        sections.append(("Runs without results", md, htm))

    repro = {"generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "git_commit": _git_commit(), "host": platform.node(),
             "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
             **_versions()}
    repro_df = pd.DataFrame({"item": list(repro), "value": [str(v) for v in repro.values()]})
    md, htm = _table(repro_df, {"item": "item", "value": "value"})
    sections.append(("Reproducibility", md, htm))

    title = params.get("report", {}).get("title", "actionbench report")
    markdown = f"# {title}\n\n" + "".join(f"## {t}\n\n{m}\n\n" for t, m, _ in sections)
    body = "".join(f"<section><h2>{html.escape(t)}</h2>{h}</section>" for t, _, h in sections)
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:14px}"
        "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "th{background:#f0f0f0}td:first-child{text-align:left}"
        "img{max-width:100%}figure{margin:1em 0}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    paths = {
        "html": out_dir / "index.html",
        "markdown": out_dir / "report.md",
        "metrics": out_dir / "metrics.json",
        "table": out_dir / "results.csv",
    }
    _atomic_write(paths["html"], page)
    _atomic_write(paths["markdown"], markdown)
    metrics = {
        rid: {k: (None if pd.isna(v) else round(float(v), 3))
              for k, v in row.items() if k in RESULT_COLUMNS and k not in ("run_id", "status",
                                                                           "eval_clips", "eval_crops")}
        for rid, row in results.set_index("run_id").iterrows()
    }
    if not contrib.empty:  # keyed (not a list) so `dvc metrics show` can flatten it
        metrics["contributions"] = {
            f"{r['dataset']}/{r['classes']}/{r['arch']}": r
            for r in json.loads(contrib.to_json(orient="records"))
        }
    _atomic_write(paths["metrics"], json.dumps(metrics, indent=2, sort_keys=True))
    log.info("report written to %s", paths["html"].resolve())
    return paths
