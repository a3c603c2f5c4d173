"""Split lists: the index joined with extraction results -> ``train.csv``, ``val.csv``,
``classes.csv`` (and ``excluded.csv``) under ``data/lists/<dataset>/``.

Why labels come from the index, not from what extracted: a class whose videos all failed to
decode must not shift every later label. Labels are dense 0..K-1 over the classes in the index,
in the format's official order when the adapter provides one (``class_index`` column) and in
sorted label_name order otherwise; so a complete dataset gets exactly its official indices.

Every video the annotations name but the lists leave out is in ``excluded.csv`` with its
reason and the stage that dropped it: annotation rows the index skipped (a video file that was
never downloaded, a malformed row, a duplicate; from ``index_failures.csv``), videos that failed
extraction (or were never extracted), and extracted folders that no longer match their
``frames.json`` record (checked here by ``stat``: frames lost or damaged since extraction are
excluded with the reason instead of failing a training run later). The count is logged as a
warning.

``summary.json`` holds the counts (annotation rows, indexed, extracted, excluded by reason, per
split), and :func:`summary_line` says them in one line at the end of the data stage.
:func:`check_splits` makes an empty split or a class without a training video an error naming the dataset, split and
class, before any training starts.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from actionbench.data import frame_record
from actionbench.data.adapters.base import CLASS_INDEX_COLUMN, INDEX_COLUMNS
from actionbench.errors import DataError

log = logging.getLogger(__name__)

LIST_COLUMNS = ["video_id", "frames_dir", "num_frames", "label", "label_name"]
# A digest of each video's frame record (or re-encoded file): hashing a list covers its data.
CONTENT_COLUMN = "content_digest"
CLASS_COLUMNS = ["label", "label_name"]
EXCLUDED_COLUMNS = ["video_id", "video_path", "split", "label_name", "reason", "stage"]
# Where a video was dropped: the index (its annotation row was skipped), extraction (or
# re-encode), or the lists' own check of the extracted frames against their record.
STAGES = ("index", "extract", "frames check")
SUMMARY_NAME = "summary.json"
NOT_EXTRACTED = "not in any extraction table (failed or not extracted)"


@dataclass
class ListsResult:
    train: pd.DataFrame
    val: pd.DataFrame
    classes: pd.DataFrame
    excluded: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def read_csv_table(path: str | os.PathLike, required: Iterable[str]) -> pd.DataFrame:
    """A CSV as strings-where-possible DataFrame; DataError if missing or lacking columns."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        table = pd.read_csv(path, dtype={"video_id": str, "label_name": str}, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: unreadable CSV ({err})") from err
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DataError(f"{path}: lacks column(s) {missing}; has {list(table.columns)}")
    return table


def class_table(index: pd.DataFrame) -> pd.DataFrame:
    """label, label_name + every extra column that has one value per class (e.g. group, family)."""
    extras = [c for c in index.columns if c not in INDEX_COLUMNS]
    per_class = index.groupby("label_name", sort=False)
    class_level = [c for c in extras if (per_class[c].nunique(dropna=False) <= 1).all()]
    if CLASS_INDEX_COLUMN in extras and CLASS_INDEX_COLUMN not in class_level:
        bad = per_class[CLASS_INDEX_COLUMN].nunique(dropna=False)
        raise DataError(
            f"index: classes {bad[bad > 1].index.tolist()[:5]} have more than one {CLASS_INDEX_COLUMN}"
        )
    classes = (
        per_class[class_level].first().reset_index()
        if class_level
        else (pd.DataFrame({"label_name": index["label_name"].unique()}))
    )
    order = (
        [CLASS_INDEX_COLUMN, "label_name"] if CLASS_INDEX_COLUMN in class_level else ["label_name"]
    )
    classes = classes.sort_values(order, kind="stable").reset_index(drop=True)
    classes.insert(0, "label", range(len(classes)))
    return classes


VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov")


def reason_kind(reason: str) -> str:
    """The reason without its details: "truncated file: ..." -> "truncated file"."""
    return re.split(r"[:(]", str(reason), maxsplit=1)[0].strip() or str(reason)


def frames_problem(frames_dir: str, num_frames: int) -> str:
    """Why an extracted folder can no longer be used ("" when it matches its record)."""
    return frames_check(frames_dir, num_frames)[0]


def frames_check(frames_dir: str, num_frames: int) -> tuple[str, str]:
    """(why an extracted folder can no longer be used, or ""; its content digest, or "").

    Under ``storage: video`` the column holds a re-encoded video file (its frame count was probed
    when it was written): it only has to exist; its digest covers its size and frame count.
    """
    path = Path(frames_dir)
    if path.suffix.lower() in VIDEO_SUFFIXES or path.is_file():
        if not path.is_file():
            return f"video file {frames_dir} not found", ""
        size = path.stat().st_size
        try:  # the record `actionbench reencode` writes beside the file (settings, source)
            record = json.loads(Path(f"{frames_dir}.json").read_text())
        except (OSError, ValueError):
            record = {"video": {"bytes": size, "num_frames": num_frames}}
        if record.get("bytes", size) != size:
            return f"video file {frames_dir} changed since it was re-encoded (rerun reencode)", ""
        return "", frame_record.content_digest(record)
    record = frame_record.read_record(frames_dir)
    problems = frame_record.stat_problems(frames_dir, record)
    if not problems and record["num_frames"] != num_frames:
        problems = [
            f"{record['num_frames']} frames recorded, the extraction table says {num_frames}"
        ]
    if not problems:
        return "", frame_record.content_digest(record)  # type: ignore[arg-type]
    hint = "rerun extract" + (
        " (Snakemake: --forcerun extract; folders made before records existed)"
        if record is None
        else ""
    )
    return "frames no longer match their record: " + "; ".join(problems) + f" ({hint})", ""


def build_lists(
    index: pd.DataFrame,
    extracted: pd.DataFrame | list[pd.DataFrame],
    failures: pd.DataFrame | list[pd.DataFrame] | None = None,
    check_frames: bool = True,
    index_failures: pd.DataFrame | None = None,
    dataset: str = "",
) -> ListsResult:
    """Join ``index`` with one or more extraction tables (one per shard) into split lists.

    ``check_frames`` re-checks every extracted folder against its record by ``stat``;
    ``index_failures`` (the adapter's skipped annotation rows: file, row, video_id, reason) are
    excluded videos too, listed first in ``excluded`` and counted by reason in the summary.
    """
    missing = [c for c in INDEX_COLUMNS if c not in index.columns]
    if missing:
        raise DataError(f"index table lacks column(s) {missing}")
    if index.empty:
        raise DataError("index table is empty: nothing to list")
    duplicated = index["video_id"][index["video_id"].duplicated()].tolist()
    if duplicated:
        raise DataError(f"index table has duplicate video_id(s): {duplicated[:5]}")
    extracted = pd.concat(extracted) if isinstance(extracted, list) else extracted
    extracted = extracted.drop_duplicates("video_id", keep="first")
    extracted = extracted[extracted["num_frames"].astype(int) > 0]
    index = index.astype({"video_id": str, "label_name": str})
    classes = class_table(index)
    label_of = dict(zip(classes["label_name"], classes["label"], strict=True))
    joined = index.merge(
        extracted[["video_id", "frames_dir", "num_frames"]].astype({"video_id": str}),
        on="video_id",
        how="left",
        validate="one_to_one",
    )
    ok = joined["frames_dir"].notna()
    stale: dict[str, str] = {}
    joined[CONTENT_COLUMN] = ""
    if check_frames and ok.any():
        rows = joined[ok]
        with ThreadPoolExecutor(max_workers=8) as pool:  # stat calls: I/O bound
            found = list(
                pool.map(
                    frames_check, rows["frames_dir"].astype(str), rows["num_frames"].astype(int)
                )
            )
        stale = {v: p for v, (p, _) in zip(rows["video_id"], found, strict=True) if p}
        joined.loc[ok, CONTENT_COLUMN] = [content for _, content in found]
        if stale:
            ok &= ~joined["video_id"].isin(stale)
            log.warning(
                "%d extracted video(s) no longer match their frame record (e.g. %s: %s)",
                len(stale), next(iter(stale)), next(iter(stale.values())),
            )  # fmt: skip
    joined["label"] = joined["label_name"].map(label_of)
    extras = [c for c in index.columns if c not in INDEX_COLUMNS]
    lists = joined[ok].astype({"num_frames": int})[LIST_COLUMNS + extras + [CONTENT_COLUMN]]
    train = lists[joined.loc[ok, "split"] == "train"].reset_index(drop=True)
    val = lists[joined.loc[ok, "split"] == "val"].reset_index(drop=True)
    parts = [_skipped_rows(index_failures), _excluded(joined[~ok], failures, stale)]
    parts = [p for p in parts if len(p)] or parts[1:]  # no empty frame in a concat
    excluded = pd.concat(parts, ignore_index=True)
    annotated = len(index) + (0 if index_failures is None else len(index_failures))
    if len(excluded):
        log.warning(
            "%d of %d annotated videos excluded from the lists (skipped by the index, failed or "
            "not extracted); see excluded.csv",
            len(excluded), annotated,
        )  # fmt: skip
    without_train = sorted(set(classes["label_name"]) - set(train["label_name"]))
    if without_train:
        log.warning(
            "%d class(es) have no training video: %s", len(without_train), without_train[:5]
        )
    summary = {
        "dataset": dataset,
        "annotation_rows": None if index_failures is None else annotated,
        "annotation_rows_skipped": None if index_failures is None else len(index_failures),
        "indexed": len(index),
        "extracted": int(ok.sum()),
        "excluded": len(excluded),
        "excluded_by_reason": dict(
            Counter(reason_kind(r) for r in excluded["reason"]).most_common()
        ),
        "train": len(train),
        "val": len(val),
        "classes": len(classes),
        "classes_without_train": without_train,
    }
    return ListsResult(train=train, val=val, classes=classes, excluded=excluded, summary=summary)


def summary_line(summary: dict[str, Any]) -> str:
    """``ucf101: 123 annotation rows, 120 indexed, 117 extracted, 6 excluded (3 video not found;
    2 moov atom not found; 1 not a video); 80 train / 37 val videos, 5 classes``.

    Excluded = annotation rows - extracted: the rows the index skipped and the videos extraction
    lost, each counted under its reason (summaries written before ``annotation_rows`` existed
    name the skipped rows instead)."""
    parts = []
    if summary.get("annotation_rows") is not None:
        parts.append(f"{summary['annotation_rows']} annotation rows")
    elif summary.get("annotation_rows_skipped") is not None:
        parts.append(f"{summary['annotation_rows_skipped']} annotation rows skipped")
    parts += [f"{summary['indexed']} indexed", f"{summary['extracted']} extracted"]
    excluded = f"{summary['excluded']} excluded"
    if summary["excluded_by_reason"]:
        excluded += (
            " (" + "; ".join(f"{n} {why}" for why, n in summary["excluded_by_reason"].items()) + ")"
        )
    parts.append(excluded)
    return (
        f"{summary.get('dataset') or 'lists'}: " + ", ".join(parts)
        + f"; {summary['train']} train / {summary['val']} val videos, {summary['classes']} classes"
    )  # fmt: skip


def check_splits(
    train: pd.DataFrame, val: pd.DataFrame, classes: pd.DataFrame, dataset: str
) -> None:
    """DataError naming the dataset, split and class when a split is empty or a class has no
    training video: either would only surface (or not at all) hours into training."""
    for split, table in (("train", train), ("val", val)):
        if table.empty:
            raise DataError(
                f"dataset {dataset!r}: split {split!r} is empty (every {split} video was "
                "excluded or none is annotated); see excluded.csv and summary.json next to the lists"
            )
    without = [c for c in classes["label_name"].astype(str) if c not in set(train["label_name"])]
    if without:
        raise DataError(
            f"dataset {dataset!r}: split 'train' has no video of class(es) {without[:5]}"
            + (f" and {len(without) - 5} more" if len(without) > 5 else "")
            + "; see excluded.csv (fix or re-extract their videos)"
        )


def _skipped_rows(index_failures: pd.DataFrame | None) -> pd.DataFrame:
    """The index's skipped annotation rows as excluded videos (their path, split and class are
    unknown when the row never became an index row; the reason names the file and row)."""
    if index_failures is None or index_failures.empty:
        return pd.DataFrame(columns=EXCLUDED_COLUMNS)
    table = index_failures.astype({"video_id": str, "reason": str}).fillna("")
    where = [
        f" ({Path(str(f)).name} row {r})" if str(f) and str(r) else ""
        for f, r in zip(
            table.get("file", pd.Series("", index=table.index)),
            table.get("row", pd.Series("", index=table.index)),
            strict=True,
        )
    ]
    return pd.DataFrame(
        {
            "video_id": table["video_id"].replace("nan", ""),
            "video_path": "",
            "split": "",
            "label_name": "",
            "reason": [reason + w for reason, w in zip(table["reason"], where, strict=True)],
            "stage": STAGES[0],
        }
    )[EXCLUDED_COLUMNS].reset_index(drop=True)


def _excluded(
    rows: pd.DataFrame,
    failures: pd.DataFrame | list[pd.DataFrame] | None,
    stale: dict[str, str] | None = None,
) -> pd.DataFrame:
    reasons: dict[str, str] = {}
    if failures is not None:
        table = pd.concat(failures) if isinstance(failures, list) else failures
        if len(table):
            reasons = dict(
                zip(table["video_id"].astype(str), table["reason"].astype(str), strict=True)
            )
    excluded = rows[["video_id", "video_path", "split", "label_name"]].copy()
    stale = stale or {}
    excluded["stage"] = [STAGES[2] if v in stale else STAGES[1] for v in excluded["video_id"]]
    reasons.update(stale)
    excluded["reason"] = [reasons.get(v, NOT_EXTRACTED) for v in excluded["video_id"]]
    return excluded.reset_index(drop=True)[EXCLUDED_COLUMNS]


def write_lists(result: ListsResult, out_dir: str | os.PathLike) -> Path:
    """Write train.csv, val.csv, classes.csv and excluded.csv into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in (
        ("train", result.train),
        ("val", result.val),
        ("classes", result.classes),
        ("excluded", result.excluded),
    ):
        table.to_csv(out_dir / f"{name}.csv", index=False)
    if result.summary:
        (out_dir / SUMMARY_NAME).write_text(json.dumps(result.summary, indent=2) + "\n")
    log.info(
        "lists in %s: %d train, %d val videos, %d classes",
        out_dir, len(result.train), len(result.val), len(result.classes),
    )  # fmt: skip
    return out_dir
