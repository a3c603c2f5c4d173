"""Table 8: speed and memory (``actionbench benchmark``) next to accuracy and FLOPs."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from actionbench.analysis.tables.base import DASH, LEVELS, Table, evaluated, fmt
from actionbench.spec import label as model_label

ACCURACY_SUFFIX = " top-1"  # table8_rows' accuracy columns: "<dataset> <level> top-1"


def table8_rows(
    bench: pd.DataFrame,
    profiles: pd.DataFrame,
    results: pd.DataFrame,
    run_inputs: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Selection for Table 8 (pure): each benchmark row (``efficiency.load_benchmarks``) with
    the numbers put next to it, and the consistency flags of the rows.

    Added to the benchmark's own columns: ``gflops`` (float, NaN where not profiled; the
    profile at the row's input size, else the last one) and ``profiled`` (a profile of the
    model exists); ``<dataset> <level> top-1`` (float) for every dataset with an evaluated run
    of the same model and frames (uniform sampling preferred); ``input_size_mismatch`` on a
    row whose GFLOPs or accuracy were measured at another input size than its speed, saying
    which in words (``run_inputs``: run id -> the input size it was trained at). Kept apart
    from ``table8`` so the numbers can be checked (and written as CSV) without the
    formatting."""
    run_inputs = run_inputs or {}
    if bench.empty:
        return pd.DataFrame(), []
    ok = evaluated(results)
    rows = []
    datasets = sorted(ok["dataset"].unique())
    for _, b in bench.iterrows():
        prof = (
            profiles[
                (profiles["arch"] == b["arch"])
                & (profiles["backbone"] == b["backbone"])
                & (profiles["tp"] == bool(b["tp"]))
                & (profiles["frames"] == b["frames"])
                & (profiles["tam_locations"] == "all")
            ]
            if not profiles.empty
            else profiles
        )
        mismatch = []
        if not prof.empty and pd.notna(b["size"]):
            same = prof[prof["size"] == b["size"]]
            if same.empty:  # only profiled at another size: shown, and flagged on the row
                mismatch.append(f"GFLOPs at {fmt(prof['size'].iloc[-1])} px")
            prof = same if not same.empty else prof
        row = {
            **b.to_dict(),
            "gflops": float(prof["gflops"].iloc[-1]) if not prof.empty else math.nan,
            "profiled": not prof.empty,
        }
        for d in datasets:
            match = ok[
                (ok["dataset"] == d)
                & (ok["arch"] == b["arch"])
                & (ok["backbone"] == b["backbone"])
                & (ok["tp"].astype(bool) == bool(b["tp"]))
                & (ok["frames"] == b["frames"])
                & (ok["tam_locations"] == "all")
            ]
            if match.empty:
                continue
            match = match.sort_values("sampling", key=lambda s: s != "uniform")
            for level, col in LEVELS.items():
                row[f"{d} {level}{ACCURACY_SUFFIX}"] = match[col].iloc[0]
            trained = run_inputs.get(match["run_id"].iloc[0])
            if trained is not None and (pd.isna(b["size"]) or int(trained) != int(b["size"])):
                mismatch.append(f"{d}: accuracy at {trained} px")
        if mismatch:
            row["input_size_mismatch"] = "; ".join(mismatch)
        rows.append(row)
    tidy = pd.DataFrame(rows)
    flags = []
    for mode, grp in bench.groupby("mode"):
        for col, label in (
            ("device", "device"),
            ("torch", "torch version"),
            ("threads", "CPU threads"),
            ("size", "input size"),
        ):
            values = grp[col].dropna().astype(str).unique()
            if len(values) > 1:
                flags.append(f"{mode}: {label} differs between rows — {', '.join(values)}")
        if grp["batch_size"].nunique() > 1 and grp["max_batch_size"].isna().all():
            flags.append(
                f"{mode}: batch size differs between rows "
                f"({', '.join(str(v) for v in grp['batch_size'].unique())}) and no "
                "row measured its maximum batch; throughput depends on batch size"
            )
    if "input_size_mismatch" in tidy.columns:
        n = int(tidy["input_size_mismatch"].notna().sum())
        flags.append(
            f"{n} row(s) put numbers measured at different input sizes side by side "
            "(column '⚠ input size')"
        )
    return tidy, flags


def table8(
    bench: pd.DataFrame,
    profiles: pd.DataFrame,
    results: pd.DataFrame,
    inputs: str,
    run_inputs: Mapping[str, object] | None = None,
) -> Table:
    """Speed and memory (``actionbench benchmark`` results) next to accuracy and FLOPs.

    Each row says the input size and device it was measured at; accuracy from runs trained at
    another input size (``run_inputs``: run id -> input_size) is flagged on that row."""
    title = "Table 8 — speed and memory"
    if bench.empty:
        return Table(
            "table8",
            title,
            missing=(
                f"no model benchmark results ({inputs}); write them with `actionbench benchmark "
                "--arch A --backbone B --frames F --batch-size N --mode both --json --out "
                "<reports>/benchmarks/<model>-f<F>.json`"
            ),
        )
    tidy, flags = table8_rows(bench, profiles, results, run_inputs)
    # accuracy and mismatch columns, in the order the rows first have them (every row gets
    # each of them, so the display keeps that order)
    extra = [c for c in tidy.columns if c.endswith(ACCURACY_SUFFIX) or c == "input_size_mismatch"]
    rows = []
    for _, r in tidy.iterrows():
        row = {
            "Model": model_label(r["arch"], r["backbone"], r["tp"]),
            "Frames": r["frames"],
            "Mode": r["mode"],
            "Device": r["device"],
            "Input (px)": fmt(r["size"]) if pd.notna(r["size"]) else "unknown",
            "Batch": fmt(r["batch_size"]),
            "Step (ms)": fmt(r["step_ms"]),
            "Throughput (clips/s)": fmt(r["clips_per_s"], 2),
            "Peak memory (GiB)": fmt(r["peak_mem_bytes"] / 2**30, 2)
            if pd.notna(r["peak_mem_bytes"])
            else DASH,
            "Max batch": fmt(r["max_batch_size"]) if pd.notna(r["max_batch_size"]) else DASH,
            "GFLOPs": fmt(r["gflops"]) if r["profiled"] else "not profiled",
        }
        for c in extra:
            if c != "input_size_mismatch":
                row[c] = fmt(r[c])
            else:
                row["⚠ input size"] = (
                    f"speed at {fmt(r['size'])} px, {r[c]}: not comparable"
                    if pd.notna(r[c])
                    else DASH
                )
        rows.append(row)
    frame = pd.DataFrame(rows).fillna(DASH).set_index(["Model", "Frames", "Mode"])
    sizes = ", ".join(f"{s} px" for s in sorted({fmt(v) for v in tidy["size"].dropna()}))
    devices = ", ".join(sorted(tidy["device"].dropna().astype(str).unique()))
    notes = [
        f"Measured at input {sizes or 'unknown size'} on {devices or 'an unknown device'} "
        "(each row: columns Input and Device). "
        "Throughput = batch / median step time; peak memory = CUDA max allocated on GPUs, "
        "peak resident set size on CPU. Accuracy columns: the run with the same model and "
        f"frames (uniform sampling preferred); a row whose accuracy comes from another input "
        f"size says so in '⚠ input size'. Source: {inputs}."
    ]
    return Table("table8", title, frame, tidy, notes, flags)
