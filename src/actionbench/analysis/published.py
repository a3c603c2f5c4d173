"""Published top-1 beside ours: the paper's Tables 5, 6 and 8 and the reference code's benchmark
of 288 mini-dataset models, matched to runs by configuration.

The numbers are data shipped in ``actionbench/resources/published`` (its README names each
source). A run matches a published row when dataset, arch, backbone, temporal pooling, frames,
sampling, TAM locations and layout all agree; the row says whether the number is clip- or
video-level, and the run's top-1 at that level is compared with it. A difference larger than
``report.published.tolerance`` (points of top-1, params.yaml) is flagged. Runs evaluated from an
imported reference checkpoint (``actionbench import-checkpoint``, then ``evaluate --checkpoint``)
are runs like the others and get the same comparison.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from actionbench import defaults
from actionbench.errors import DataError
from actionbench.spec import ARCHS, BACKBONES, LAYOUTS, SAMPLINGS, TAM_LOCATIONS

DIRECTORY = Path(__file__).resolve().parents[1] / "resources" / "published"
KEYS = ("dataset", "arch", "backbone", "tp", "frames", "sampling", "tam_locations", "layout")
COLUMNS = ("source", *KEYS, "level", "top1")
LEVELS = ("clip", "video")
CHOICES = {
    "arch": ARCHS,
    "backbone": BACKBONES,
    "sampling": SAMPLINGS,
    "tam_locations": TAM_LOCATIONS,
    "layout": LAYOUTS,
    "level": LEVELS,
    "tp": ("true", "false"),
}
BESIDE_COLUMNS = ["run_id", "level", "measured", "published", "diff", "outside", "source"]


def _check(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The rows of one run-level file, typed; ``DataError`` naming the file, row and column."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected {COLUMNS}")
    for i, row in frame.iterrows():
        where = f"{path}, row {i + 2}"  # the header is line 1
        for column, allowed in CHOICES.items():
            if str(row[column]) not in allowed:
                raise DataError(
                    f"{where}: {column} {row[column]!r} is not one of {', '.join(allowed)}"
                )
        if not str(row["dataset"]).strip() or not str(row["source"]).strip():
            raise DataError(f"{where}: empty dataset or source")
        if not str(row["frames"]).isdigit() or int(row["frames"]) < 1:
            raise DataError(f"{where}: frames {row['frames']!r} is not a positive integer")
        try:
            top1 = float(row["top1"])
        except ValueError:
            top1 = math.nan
        if not 0 <= top1 <= 100:
            raise DataError(f"{where}: top1 {row['top1']!r} is not a percentage (0-100)")
    typed = frame[list(COLUMNS)].copy()
    typed["tp"] = typed["tp"].astype(str) == "true"
    typed["frames"] = typed["frames"].astype(int)
    typed["top1"] = typed["top1"].astype(float)
    return typed


def load(directory: Path = DIRECTORY) -> pd.DataFrame:
    """Every run-level published number (files with a ``top1`` column), paper tables first."""
    frames = []
    for path in sorted(directory.glob("*.csv")):
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "top1" in raw.columns:
            frames.append(_check(raw, path))
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat(frames, ignore_index=True)


def load_table7(directory: Path = DIRECTORY) -> pd.DataFrame:
    """The paper's Table 7 (mean Phi/Psi per dataset and module): source, dataset, arch,
    metric, value."""
    return pd.read_csv(directory / "paper_table7.csv")


def tolerance(params: dict) -> float:
    """``report.published.tolerance`` of params.yaml, else its default."""
    return float(defaults.report(params.get("report"))["published"]["tolerance"])


def beside(results: pd.DataFrame, published: pd.DataFrame, tol: float) -> pd.DataFrame:
    """Each evaluated run with each published number of its configuration (pure; ``results``
    as ``collect_runs`` makes it, layout included): the run's
    top-1 at the published level, the published one, their difference (ours minus published)
    and whether it is larger than ``tol`` points. Runs without a match are left out; the
    sources keep the published frame's order."""
    ok = results[results["status"] == "ok"]
    if ok.empty or published.empty:
        return pd.DataFrame(columns=BESIDE_COLUMNS)
    runs = ok.assign(
        tp=ok["tp"].astype(bool),
        frames=ok["frames"].astype(int),
        _order=range(len(ok)),
    )
    matched = runs.merge(published.reset_index(names="_source_order"), on=list(KEYS))
    if matched.empty:
        return pd.DataFrame(columns=BESIDE_COLUMNS)
    matched = matched.sort_values(["_order", "_source_order"], kind="stable")
    measured = [
        row.get(f"{level}_top1")
        for level, (_, row) in zip(matched["level"], matched.iterrows(), strict=True)
    ]
    out = pd.DataFrame(
        {
            "run_id": matched["run_id"].to_numpy(),
            "level": matched["level"].to_numpy(),
            "measured": pd.to_numeric(pd.Series(measured), errors="coerce").to_numpy(),
            "published": matched["top1"].to_numpy(),
            "source": matched["source"].to_numpy(),
        }
    )
    out["diff"] = out["measured"] - out["published"]
    out["outside"] = out["diff"].abs() > tol
    return out[BESIDE_COLUMNS].reset_index(drop=True)


def first_per_run(beside_frame: pd.DataFrame) -> pd.DataFrame:
    """One published number per run (the first source: the paper before the reference code),
    indexed by run id."""
    return beside_frame.drop_duplicates("run_id").set_index("run_id")
