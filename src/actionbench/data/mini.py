"""Mini datasets (paper, Table 11): a subset of classes with every one of their videos.

Modes:

* ``class_list`` — exactly the classes named in a list file. Mini-SSV2 and Mini-Kinetics use the
  paper's published lists, shipped with the package (aliases ``mini_ssv2``, ``mini_kinetics400``);
  Mini-MiT takes a user-given path. A name that is not a class of the dataset is a ConfigError
  naming it (a misspelt class must not silently shrink the benchmark).
* ``seeded_half`` — a seeded random half (``n // 2``, at least 1) of the classes. With
  ``unit_column`` the draw is over units, classes sharing that column's value (the synthetic
  set's forward/reversed ``family`` pairs stay together, so the temporal task stays intact);
  with ``strata_column`` half of the units is drawn within each stratum (e.g. ``group``:
  temporal/spatial), so the mini set keeps the balance of the full one.
* ``all`` — every class (a copy with ``original_label``, so downstream code has one shape).

Kept classes are relabelled densely 0..K-1 in their original label order; ``classes.csv`` keeps
``original_label`` so predictions map back to the full dataset.
"""

from __future__ import annotations

import logging
import os
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from actionbench.data.lists import LIST_COLUMNS, read_csv_table
from actionbench.errors import ConfigError, DataError

log = logging.getLogger(__name__)

MODES = ("class_list", "seeded_half", "all")
CLASS_LIST_ALIASES = {
    "mini_ssv2": "mini_ssv2_classes.txt",
    "mini_kinetics400": "mini_kinetics400_classes.txt",
    "mini_kinetics": "mini_kinetics400_classes.txt",
}


def resolve_class_list(path_or_alias: str | os.PathLike) -> Path:
    """A shipped list for an alias (``mini_ssv2``, ``mini_kinetics400``), else the path itself."""
    name = str(path_or_alias)
    if name in CLASS_LIST_ALIASES:
        shipped = resources.files("actionbench").joinpath(
            "resources", "class_lists", CLASS_LIST_ALIASES[name]
        )
        return Path(str(shipped))
    path = Path(name)
    if not path.is_file():
        raise ConfigError(
            f"class list {name!r}: no such file and not one of the shipped aliases "
            f"{sorted(CLASS_LIST_ALIASES)}"
        )
    return path


def read_class_list(path: str | os.PathLike) -> list[str]:
    """Class names, one per line; blank lines ignored, duplicates dropped with a warning."""
    names: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            name = line.strip()
            if name and name not in names:
                names.append(name)
            elif name:
                log.warning("%s: class %r listed twice; counted once", path, name)
    if not names:
        raise ConfigError(f"class list {path} is empty")
    return names


def _units(classes: pd.DataFrame, unit_column: str | None) -> pd.Series:
    """Unit key per class: its ``unit_column`` value, or the class itself."""
    if unit_column is None:
        return classes["label_name"].astype(str)
    values = classes[unit_column].astype(str)
    own = classes["label_name"].astype(str)
    return values.where(values.str.len() > 0, "class:" + own)


def choose_classes(
    classes: pd.DataFrame,
    mode: str,
    seed: int,
    class_list: str | os.PathLike | None = None,
    unit_column: str | None = None,
    strata_column: str | None = None,
) -> list[str]:
    """The label_names to keep, in original label order."""
    if mode not in MODES:
        raise ConfigError(f"mini mode {mode!r}; expected one of {list(MODES)}")
    for column in (unit_column, strata_column):
        if column is not None and column not in classes.columns:
            raise ConfigError(
                f"mini: column {column!r} is not a class-level column of classes.csv "
                f"(has {list(classes.columns)})"
            )
    names = classes["label_name"].astype(str).tolist()
    if mode == "all":
        return names
    if mode == "class_list":
        if class_list is None:
            raise ConfigError("mini mode class_list needs a class list (path or alias)")
        path = resolve_class_list(class_list)
        wanted = read_class_list(path)
        unknown = [n for n in wanted if n not in set(names)]
        if unknown:
            raise ConfigError(
                f"class list {path}: {len(unknown)} name(s) are not classes of this dataset: "
                f"{unknown[:10]}"
            )
        keep = set(wanted)
        return [n for n in names if n in keep]
    units = _units(classes, unit_column)
    strata = (
        classes[strata_column].astype(str)
        if strata_column is not None
        else pd.Series("", index=classes.index)
    )
    per_unit = pd.DataFrame({"unit": units, "stratum": strata}).groupby("unit")["stratum"].nunique()
    if (per_unit > 1).any():
        raise DataError(
            f"mini: units {per_unit[per_unit > 1].index.tolist()[:5]} ({unit_column}) span several "
            f"{strata_column} values; a unit must sit in one stratum"
        )
    rng = np.random.default_rng(seed)
    chosen_units: set[str] = set()
    for stratum in sorted(set(strata)):
        stratum_units = sorted(set(units[strata == stratum]))
        k = max(1, len(stratum_units) // 2)
        picks = rng.choice(len(stratum_units), size=k, replace=False)
        chosen_units.update(stratum_units[i] for i in sorted(picks))
    return [n for n, u in zip(names, units, strict=True) if u in chosen_units]


def make_mini(
    lists_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    mode: str,
    seed: int,
    class_list: str | os.PathLike | None = None,
    unit_column: str | None = None,
    strata_column: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Write ``train.csv``, ``val.csv``, ``classes.csv`` of the mini dataset into ``out_dir``.

    Returns the three tables (keys train, val, classes). Reproducible: same lists + seed -> same
    classes, same files.
    """
    lists_dir, out_dir = Path(lists_dir), Path(out_dir)
    classes = read_csv_table(lists_dir / "classes.csv", ["label", "label_name"])
    classes = classes.sort_values("label", kind="stable").reset_index(drop=True)
    keep = choose_classes(classes, mode, seed, class_list, unit_column, strata_column)
    kept = classes[classes["label_name"].astype(str).isin(set(keep))].copy()
    kept = kept.rename(columns={"label": "original_label"})
    kept.insert(0, "label", range(len(kept)))
    kept = kept[
        ["label", "label_name", "original_label"]
        + [c for c in kept.columns if c not in ("label", "label_name", "original_label")]
    ]
    new_label = dict(zip(kept["original_label"], kept["label"], strict=True))
    tables: dict[str, pd.DataFrame] = {"classes": kept.reset_index(drop=True)}
    for split in ("train", "val"):
        rows = read_csv_table(lists_dir / f"{split}.csv", LIST_COLUMNS)
        rows = rows[rows["label"].isin(set(new_label))].copy()
        rows["label"] = rows["label"].map(new_label).astype(int)
        tables[split] = rows.reset_index(drop=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(out_dir / f"{name}.csv", index=False)
    log.info(
        "mini (%s, seed %d): %d of %d classes, %d train / %d val videos -> %s",
        mode, seed, len(kept), len(classes), len(tables["train"]), len(tables["val"]), out_dir,
    )  # fmt: skip
    return tables
