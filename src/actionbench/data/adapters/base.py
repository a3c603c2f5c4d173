"""What every dataset adapter shares: option checking, row-level failure reports, the index table.

Why one place: every official format has the same failure modes (a row with too few fields, a
label not in the class list, a video that was never downloaded). Each is reported with file,
row and reason in the ``index_failures`` table, the row is skipped, and the rest goes on; the
count is logged as a warning so nothing disappears silently.

No leakage through paths: a video path built from an annotation must stay inside the raw
directory. A ``..`` component, an absolute path elsewhere, or a symlink whose target lies outside
is rejected with the row named (a top-level folder of the raw directory that is itself a symlink,
a dataset kept on another disk, counts as inside). The same physical file (same device and inode, so symlinks and
hard links count) under a second id is rejected too, naming the first row and whether the two
rows are in different splits: otherwise one video could be trained on and validated on. So is a
byte-identical copy in the other split (files of equal size are hashed; nothing else is read);
a copy within one split is kept with a warning (not a leak; some datasets repeat clips).
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import pandas as pd

from actionbench.errors import ConfigError, DataError

log = logging.getLogger(__name__)

INDEX_COLUMNS = ["video_id", "video_path", "split", "label_name"]
FAILURE_COLUMNS = ["file", "row", "video_id", "reason"]
SPLITS = ("train", "val")
# Extra column an adapter adds when its format defines an official class order.
CLASS_INDEX_COLUMN = "class_index"
VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".avi", ".mov", ".m4v", ".flv")

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class IndexResult:
    """An adapter's output: the index (one row per usable video) and the rows it skipped."""

    index: pd.DataFrame
    failures: pd.DataFrame


def is_safe_video_id(video_id: str) -> bool:
    """True when ``video_id`` can be a folder name on any filesystem and in any shell."""
    return bool(_SAFE_ID.match(video_id)) and len(video_id) <= 200


def safe_video_id(name: str) -> str:
    """A filesystem-safe id for ``name``; unchanged when already safe.

    Unsafe characters (spaces, quotes, unicode, slashes) become ``_`` and a short hash of the
    original name is appended, so two names that differ only in unsafe characters stay distinct.
    """
    if is_safe_video_id(name):
        return name
    cleaned = _UNSAFE_RUN.sub("_", name).strip("._-")[:150] or "video"
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned}-{digest}"


def relative_path_problem(path: PurePath) -> str:
    """Why an annotation's relative video path cannot be used as given ("" when it can)."""
    if path.is_absolute():
        return f"path {str(path)!r} is absolute; annotation paths are relative to the videos folder"
    if ".." in path.parts:
        return (
            f"path {str(path)!r} has a '..' component (annotation paths must stay inside raw_dir)"
        )
    return ""


def resolve_options(
    fmt: str, annotations: Mapping[str, Any] | None, defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """Defaults overridden by ``annotations``; an unknown key is a ConfigError (catches typos)."""
    annotations = dict(annotations or {})
    unknown = sorted(set(annotations) - set(defaults))
    if unknown:
        raise ConfigError(
            f"{fmt} adapter: unknown annotations key(s) {unknown}; "
            f"expected some of {sorted(defaults)}"
        )
    return {**defaults, **annotations}


def int_option(fmt: str, options: Mapping[str, Any], key: str, allowed: range) -> int:
    """An integer option within ``allowed``; ConfigError naming the key otherwise."""
    value = options[key]
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number not in allowed:
        raise ConfigError(
            f"{fmt} adapter: annotations key {key!r} = {value!r}; expected an integer in "
            f"{allowed.start}..{allowed.stop - 1}"
        )
    return number


def annotation_path(fmt: str, raw_dir: Path, options: Mapping[str, Any], key: str) -> Path:
    """``raw_dir / options[key]``, which must exist; ConfigError names the key and the path."""
    value = options.get(key)
    if not value:
        raise ConfigError(f"{fmt} adapter: annotations key {key!r} is required")
    path = Path(raw_dir) / str(value)
    if not path.exists():
        raise ConfigError(
            f"{fmt} adapter: file for annotations key {key!r} not found: {path} "
            f"(set --annotations {key}=<path relative to {raw_dir}>)"
        )
    return path


def check_raw_dir(fmt: str, raw_dir: Path) -> Path:
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise ConfigError(f"{fmt} adapter: raw directory {raw_dir} does not exist")
    return raw_dir


@dataclass(frozen=True)
class AdapterInputs:
    """One adapter run's checked inputs: the raw directory and the resolved annotation options.

    Every format starts the same way (the raw directory must exist, the options are the
    publisher's defaults overridden by known keys) and then names its files by option key; this
    keeps the format name, folder and options together so each lookup is ``inputs.path(key)``.
    """

    fmt: str
    raw_dir: Path
    options: dict[str, Any]

    @classmethod
    def resolve(
        cls,
        fmt: str,
        raw_dir: Path,
        annotations: Mapping[str, Any] | None,
        defaults: Mapping[str, Any],
    ) -> AdapterInputs:
        raw_dir = check_raw_dir(fmt, raw_dir)
        return cls(fmt, raw_dir, resolve_options(fmt, annotations, defaults))

    def path(self, key: str) -> Path:
        """The existing file or folder named by option ``key`` (see :func:`annotation_path`)."""
        return annotation_path(self.fmt, self.raw_dir, self.options, key)

    def integer(self, key: str, allowed: range) -> int:
        """Option ``key`` as an integer within ``allowed`` (see :func:`int_option`)."""
        return int_option(self.fmt, self.options, key, allowed)

    def builder(self) -> IndexBuilder:
        return IndexBuilder(self.fmt, self.raw_dir)


def read_rows(path: Path, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for every non-blank line of a delimited text file.

    Line numbers are 1-based and count the header, so they match what an editor shows.
    """
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            for fields in reader:
                if not fields or all(not f.strip() for f in fields):
                    continue
                yield reader.line_num, [f.strip() for f in fields]
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text ({err})") from err
    except csv.Error as err:
        raise DataError(f"{path}: unreadable as delimited text ({err})") from err


def read_words(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, words) for every non-blank line of a space-separated list file.

    The official split lists separate fields by one or more spaces; runs of spaces are one gap.
    """
    for line, fields in read_rows(path, delimiter=" "):
        yield line, [f for f in fields if f]


def read_table(
    path: Path, required: list[str], delimiter: str = ","
) -> Iterator[tuple[int, dict[str, str] | None, str]]:
    """Rows of a headed CSV as dicts; a row with the wrong field count yields (line, None, why).

    A header without the ``required`` columns is a DataError: nothing in the file is usable.
    """
    rows = read_rows(path, delimiter)
    try:
        _, header = next(rows)
    except StopIteration:
        raise DataError(f"{path}: empty file; expected a header with {required}") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"{path}: header {header} lacks column(s) {missing}")
    for line, fields in rows:
        if len(fields) != len(header):
            yield line, None, f"expected {len(header)} fields, found {len(fields)}"
        else:
            yield line, dict(zip(header, fields, strict=True)), ""


class VideoFinder:
    """Finds ``<stem>.<ext>`` under a folder, directly or one class folder deep.

    Why scan: Kinetics is distributed both flat and per class, with mp4 or webm files; one scan
    of the folder is far cheaper than several stat calls per row on 240k videos.
    """

    def __init__(self, root: Path, extensions: tuple[str, ...] = VIDEO_EXTENSIONS):
        self.root = Path(root)
        self._by_stem: dict[str, Path] = {}
        if not self.root.is_dir():
            return
        exts = {e.lower() for e in extensions}
        with os.scandir(self.root) as entries:
            top = sorted(entries, key=lambda e: e.name)
        for entry in top:
            if entry.is_dir():
                with os.scandir(entry.path) as inner:
                    for sub in sorted(inner, key=lambda e: e.name):
                        self._add(sub, exts)
            else:
                self._add(entry, exts)

    def _add(self, entry: os.DirEntry, exts: set[str]) -> None:
        stem, ext = os.path.splitext(entry.name)
        if ext.lower() in exts and entry.is_file():
            self._by_stem.setdefault(stem, Path(entry.path))

    def find(self, stem: str) -> Path | None:
        return self._by_stem.get(stem)


class IndexBuilder:
    """Collects index rows and failures; :meth:`result` makes the two tables."""

    def __init__(self, fmt: str, raw_dir: Path | str | None = None):
        self.fmt = fmt
        self.raw_dir = Path(raw_dir) if raw_dir is not None else None
        # The raw directory, and the targets of its top-level symlinked folders (a dataset
        # moved to another disk: raw/ucf101/UCF-101 -> /mnt/big/UCF-101), are "inside".
        self._real_roots: list[str] = []
        if raw_dir is not None:
            self._real_roots.append(os.path.realpath(raw_dir))
            with os.scandir(raw_dir) as entries:
                self._real_roots += [
                    os.path.realpath(e.path) for e in entries if e.is_symlink() and e.is_dir()
                ]
        self._rows: list[dict[str, Any]] = []
        self._sources: list[tuple[str, int]] = []
        self._failures: list[dict[str, Any]] = []
        # (st_dev, st_ino) -> (video_id, split, file, row) of the first row using that file
        self._physical: dict[tuple[int, int], tuple[str, str, str, int]] = {}
        self._sizes: list[int | None] = []  # byte size of each added file (None: a folder)

    def fail(self, file: Path | str, row: int, reason: str, video_id: str = "") -> None:
        self._failures.append(
            {"file": str(file), "row": int(row), "video_id": video_id, "reason": reason}
        )

    def add(
        self,
        file: Path | str,
        row: int,
        video_id: str,
        video_path: Path,
        split: str,
        label_name: str,
        require_dir: bool = False,
        classes: Mapping[str, int] | None = None,
        classes_source: str = "",
        **extra: Any,
    ) -> None:
        """Add a row if its video exists inside the raw directory and is not already indexed;
        otherwise report it (missing, outside, or the same file as an earlier row).

        A format with an official class list passes it as ``classes`` (class name -> index):
        the row's ``class_index`` column comes from it, and a label not in it is reported,
        naming ``classes_source`` (where the list came from)."""
        if classes is not None:
            if label_name not in classes:
                reason = f"unknown label {label_name!r} (not in {classes_source})"
                self.fail(file, row, reason, video_id)
                return
            extra = {CLASS_INDEX_COLUMN: classes[label_name], **extra}
        kind = "frame folder" if require_dir else "video"
        outside = self._outside(Path(video_path))
        if outside:
            self.fail(file, row, f"{kind} path {video_path} {outside}; rejected", video_id)
            return
        exists = video_path.is_dir() if require_dir else video_path.is_file()
        if not exists:
            self.fail(file, row, f"{kind} not found: {video_path}", video_id)
            return
        if split not in SPLITS:
            raise AssertionError(f"adapter bug: split {split!r}")
        st = video_path.stat()
        first = self._physical.setdefault((st.st_dev, st.st_ino), (video_id, split, str(file), row))
        if first[0] != video_id:
            where = f"{Path(first[2]).name} row {first[3]}"
            both = f"; it would be in both {first[1]} and {split}" if first[1] != split else ""
            self.fail(
                file,
                row,
                f"same {kind} as video_id {first[0]!r} ({where}): {video_path}{both}",
                video_id,
            )
            return
        self._rows.append(
            {
                "video_id": video_id,
                "video_path": str(video_path),
                "split": split,
                "label_name": label_name,
                **extra,
            }
        )
        self._sources.append((str(file), int(row)))
        self._sizes.append(None if require_dir else st.st_size)

    def _outside(self, path: Path) -> str:
        """Why ``path`` is not confined to the raw directory ("" when it is)."""
        if ".." in path.parts:
            return "has a '..' component (annotation paths must name a file inside raw_dir)"
        if self.raw_dir is None:
            return ""
        root = os.path.abspath(self.raw_dir)
        if os.path.commonpath([root, os.path.abspath(path)]) != root:
            return f"is outside the raw directory {self.raw_dir}"
        real = os.path.realpath(path)
        if not any(os.path.commonpath([r, real]) == r for r in self._real_roots):
            return f"is a symlink to {real}, outside the raw directory {self.raw_dir}"
        return ""

    def _identical_copies(self, index: pd.DataFrame, skip: Any) -> Any:
        """Rows whose file has the same bytes as an earlier row's (a copy under another id).

        Only files of equal size are hashed: compressed videos of equal size are nearly always
        copies, so this costs one read of each copy, not of the dataset.
        """
        import numpy as np

        copies = np.zeros(len(index), dtype=bool)
        by_size: dict[int, list[int]] = {}
        for pos, size in enumerate(self._sizes):
            if size is not None and not skip[pos]:
                by_size.setdefault(size, []).append(pos)
        for positions in by_size.values():
            if len(positions) < 2:
                continue
            seen: dict[str, int] = {}
            for pos in positions:
                with open(index.at[pos, "video_path"], "rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
                first = seen.setdefault(digest, pos)
                if first == pos:
                    continue
                split, first_split = index.at[pos, "split"], index.at[first, "split"]
                where = f"({Path(self._sources[first][0]).name} row {self._sources[first][1]})"
                if split == first_split:  # not a leak: kept, but said
                    log.warning(
                        "%s: %s has the same bytes as video_id %r %s, both in %s; kept",
                        self.fmt, index.at[pos, "video_path"], index.at[first, "video_id"],
                        where, split,
                    )  # fmt: skip
                    continue
                copies[pos] = True
                file, row = self._sources[pos]
                self.fail(
                    file,
                    row,
                    f"identical bytes to video_id {index.at[first, 'video_id']!r} {where}: "
                    f"{index.at[pos, 'video_path']}; it would be in both {first_split} and {split}",
                    index.at[pos, "video_id"],
                )
        return copies

    def result(self) -> IndexResult:
        index = pd.DataFrame(self._rows)
        if index.empty:
            index = pd.DataFrame(columns=INDEX_COLUMNS)
        index = index[INDEX_COLUMNS + [c for c in index.columns if c not in INDEX_COLUMNS]]
        duplicated = index["video_id"].duplicated(keep="first").to_numpy()
        for pos in duplicated.nonzero()[0]:
            file, row = self._sources[pos]
            self.fail(
                file, row, "duplicate video_id (first occurrence kept)", index.at[pos, "video_id"]
            )
        copies = self._identical_copies(index, duplicated)
        index = index[~(duplicated | copies)].reset_index(drop=True)
        failures = pd.DataFrame(self._failures, columns=FAILURE_COLUMNS)
        if len(failures):
            log.warning(
                "%s: skipped %d annotation row(s) (missing video or malformed row); "
                "see the index failures table",
                self.fmt,
                len(failures),
            )
        log.info(
            "%s: indexed %d videos (%s)",
            self.fmt,
            len(index),
            ", ".join(f"{k}={v}" for k, v in index["split"].value_counts().sort_index().items()),
        )
        return IndexResult(index=index, failures=failures)


def write_index(result: IndexResult, index_csv: Path | str, failures_csv: Path | str) -> None:
    """Write both tables as CSV (parents created), the way the ``index`` command does."""
    for table, path in ((result.index, index_csv), (result.failures, failures_csv)):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, index=False)
