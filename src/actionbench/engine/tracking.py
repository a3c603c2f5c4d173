"""MLflow tracking: one run per train or eval job, safe with many jobs logging at once.

Store: ``MLFLOW_TRACKING_URI`` if set, else ``tracking.tracking_uri`` from the run config, else
the store ``mlflow ui`` / ``mlflow server`` opens with no flags for the installed mlflow (3.x):
``sqlite:///mlflow.db`` in the current directory (the repo root) -- or ``./mlruns`` when an
existing file store with experiments is already there, the same fallback mlflow applies.
Artifacts of a sqlite store go to ``mlruns/`` beside the database file, mlflow's own default.

Portable store: MLflow records artifact locations as absolute ``file://`` URIs, so a checkout
copied or moved with its ``mlflow.db`` would keep writing artifacts into the original's
``mlruns/``. When a job opens a local store whose artifact root is no longer the ``mlruns/``
beside the database (another directory, or one that no longer exists), the stored locations of
every experiment and run under that old root are rewritten to the new one first
(:func:`relocate_artifacts`); the same directory reached through another path is left alone.

Provenance: every run is tagged with the code (``mlflow.source.git.commit``, dirty flag, package
version), the host, the device and the torch/CUDA versions, the DVC experiment when inside
``dvc exp run``, and a fingerprint of its resolved config; an eval run is a child of the train run
whose checkpoint it scores (``mlflow.parentRunId``), and a run id re-run with a changed config marks
the older runs ``actionbench.superseded_by``. System metrics (CPU, memory, disk, network, GPU) are
logged by MLflow's own monitor; ``MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=false`` turns them off and
``MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL`` sets their period (MLflow's variables).

The runs table: MLflow 3's UI shows an experiment as GenAI (overview, traces) or as model
training (the runs table) after a workflow switch kept in the browser, default GenAI, which the
``workflowType`` query parameter overrides; the experiment's ``mlflow.experimentKind`` tag is only
read when that switch is off. So the experiment carries a saved view (an experiment tag
``mlflow.sharedViewState.<key>``, listed in the runs page's Views menu): the evaluated, current
runs (``tags.stage = 'eval'``, not superseded) sorted by name, the run-name column wide enough for
the longest run id, and the columns runs are compared on (clip/video top-1 overall and per class
group, GFLOPs, parameters, dataset, arch, backbone, frames, tp, sampling). ``ui_path`` is the link
that opens it on the runs table; ``ui_link`` the whole URL for the store ``mlflow ui`` serves.

Concurrency: SQLite serialises writers. Creating the database (schema migrations) and the
experiment are done under an exclusive file lock beside the database; every later call is
retried with exponential backoff when SQLite reports "database is locked".
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from actionbench.code_version import code_version
from actionbench.engine import runcfg
from actionbench.engine.provenance import runtime_provenance
from actionbench.fingerprints import flatten

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_SQLITE_NAME = "mlflow.db"
DEFAULT_FILE_STORE = "mlruns"
RETRY_ATTEMPTS = 10
RETRY_BASE_S = 0.2
TAG_PREFIX = "actionbench."
#: the experiment kind of a model-training experiment (read by MLflow 3's UI when its
#: GenAI/model-training switch is off; with the switch, ``ui_path`` selects the workflow)
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
#: the saved runs-table view each experiment carries, and the link parameters that open it
VIEW_KEY = "actionbench"
VIEW_TAG = "mlflow.sharedViewState." + VIEW_KEY
VIEW_NAME = "actionbench: compare runs"
VIEW_FILTER = "tags.stage = 'eval' and tags.`actionbench.superseded_by` IS NULL"
VIEW_METRICS = (
    "clip_top1",
    "video_top1",
    "clip_top1_temporal",
    "clip_top1_spatial",
    "video_top1_temporal",
    "video_top1_spatial",
    "gflops",
    "params_m",
)
VIEW_TAGS = ("dataset", "arch", "backbone", "frames", "tp", "sampling")
RUN_NAME_COLUMN = "attributes.`Run Name`"
#: run-name column width: the UI's padding and icons, then pixels per character (13 px font)
NAME_COLUMN_PAD_PX, NAME_COLUMN_CHAR_PX = 90, 7
DEFAULT_UI = "http://127.0.0.1:5000"  # where `mlflow ui` serves, with no flags
#: config keys that do not change what a job computes (where it is tracked is not what it is)
_UNFINGERPRINTED = ("tracking",)


def default_uri(cwd: str | Path | None = None) -> str:
    """What ``mlflow ui`` with no flags opens, as an absolute URI rooted at ``cwd``."""
    root = Path(cwd or os.getcwd()).resolve()
    file_store = root / DEFAULT_FILE_STORE
    if any(
        p.is_dir() and p.name.isdigit() and (p / "meta.yaml").exists()
        for p in _children(file_store)
    ):
        return file_store.as_uri()
    return f"sqlite:///{root / DEFAULT_SQLITE_NAME}"


def _children(path: Path) -> Iterable[Path]:
    try:
        return list(path.iterdir())
    except OSError:
        return []


def resolve_uri(cfg: Mapping[str, Any]) -> str:
    """Environment beats config beats mlflow's default (so CI and tests can always redirect)."""
    return (
        os.environ.get("MLFLOW_TRACKING_URI")
        or runcfg.get(cfg, "tracking.tracking_uri")
        or default_uri()
    )


def _sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    return Path(unquote(uri[len("sqlite:///") :])).resolve()  # relative: to the cwd, as sqlite


def _local_dir(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" and uri:
        return Path(uri)
    return None


def _is_transient(err: BaseException) -> bool:
    text = str(err).lower()
    return "database is locked" in text or "database table is locked" in text or "busy" in text


def retry(fn: Callable[[], T], what: str) -> T:
    """Run ``fn``, retrying SQLite lock errors with jittered exponential backoff."""
    for attempt in range(RETRY_ATTEMPTS):
        try:
            return fn()
        except Exception as err:  # mlflow wraps sqlalchemy errors in MlflowException
            if not _is_transient(err) or attempt == RETRY_ATTEMPTS - 1:
                raise
            delay = RETRY_BASE_S * 2**attempt * (0.5 + random.random())
            log.debug("mlflow %s: %s; retrying in %.2fs", what, err, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Exclusive inter-process lock for a local store (no-op for remote servers)."""
    target = _sqlite_path(uri) or _local_dir(uri)
    if target is None:
        yield
        return
    lock_path = Path(f"{target}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: rely on retries alone
        yield
        return
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def flat_params(cfg: Mapping[str, Any]) -> dict[str, str]:
    """The resolved config as MLflow params (lists as JSON), clipped to MLflow's value limit."""
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

    params = {}
    for key, value in flatten(cfg).items():
        text = value if isinstance(value, str) else json.dumps(value)
        if len(text) > MAX_PARAM_VAL_LENGTH:
            text = text[: MAX_PARAM_VAL_LENGTH - 3] + "..."
        params[key] = text
    return params


def run_tags(cfg: Mapping[str, Any], stage: str) -> dict[str, str]:
    """Tags that make runs filterable in the UI and by the report."""
    return {
        "run_id": str(runcfg.get(cfg, "run_id")),
        "dataset": str(runcfg.get(cfg, "dataset")),
        "arch": str(runcfg.get(cfg, "arch")),
        "backbone": str(runcfg.get(cfg, "backbone")),
        "tp": str(bool(runcfg.get(cfg, "temporal_pooling"))).lower(),
        "frames": str(runcfg.get(cfg, "frames")),
        "sampling": str(runcfg.get(cfg, "sampling")),
        "stage": stage,
        "output_dir": str(runcfg.get(cfg, "output_dir")),
    }


def config_fingerprint(cfg: Mapping[str, Any]) -> str:
    """A short hash of the job's resolved config (tracking settings excluded)."""
    payload = {k: v for k, v in cfg.items() if k not in _UNFINGERPRINTED}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def provenance_tags(cfg: Mapping[str, Any], device: Any = None) -> dict[str, str]:
    """The code, machine and config a run was made with, as MLflow tags."""
    from mlflow.utils.mlflow_tags import MLFLOW_GIT_COMMIT, MLFLOW_SOURCE_NAME, MLFLOW_SOURCE_TYPE

    code = code_version()
    tags = {
        MLFLOW_SOURCE_NAME: "actionbench",
        MLFLOW_SOURCE_TYPE: "JOB",
        TAG_PREFIX + "package_version": str(code["package_version"]),
        TAG_PREFIX + "git_dirty": str(code["git_dirty"]).lower(),
        TAG_PREFIX + "config_fingerprint": config_fingerprint(cfg),
    }
    if code["git_commit"]:
        tags[MLFLOW_GIT_COMMIT] = code["git_commit"]
        tags[TAG_PREFIX + "git_commit"] = code["git_commit"]
    for key, value in runtime_provenance(device).items():
        tags[TAG_PREFIX + key] = str(value)
    return tags


def _system_metrics_wanted() -> bool:
    from mlflow.environment_variables import MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING

    if MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING.is_set():
        return bool(MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING.get())
    return True


def name_column_width(run_name: str) -> int:
    """Pixels the runs table's name column needs to show ``run_name`` whole."""
    return NAME_COLUMN_PAD_PX + NAME_COLUMN_CHAR_PX * len(run_name)


def runs_view(width: int, created_ms: int, updated_ms: int) -> str:
    """The saved view's tag value: MLflow's envelope (name, times, state as a JSON string)."""
    state = {
        "searchFilter": VIEW_FILTER,
        "orderByKey": "tags.`mlflow.runName`",
        "orderByAsc": True,
        "selectedColumns": [f"metrics.`{m}`" for m in VIEW_METRICS]
        + [f"tags.`{t}`" for t in VIEW_TAGS],
        "columnOrder": [RUN_NAME_COLUMN],
        "columnWidths": {RUN_NAME_COLUMN: width},
    }
    return json.dumps(
        {
            "name": VIEW_NAME,
            "createdAt": created_ms,
            "updatedAt": updated_ms,
            "state": json.dumps(state, sort_keys=True),
        },
        sort_keys=True,
    )


def _view_width(tag_value: str | None) -> int:
    """The name-column width a saved view holds (0: no view, or not one of ours)."""
    try:
        state = json.loads(json.loads(tag_value or "")["state"])
        return int(state["columnWidths"][RUN_NAME_COLUMN])
    except (ValueError, KeyError, TypeError):
        return 0


def ui_path(experiment_id: str) -> str:
    """The UI route of the experiment's runs table in the saved view (append to the UI's URL)."""
    return (
        f"/#/experiments/{experiment_id}/runs?workflowType=machine_learning"
        f"&viewStateShareKey={VIEW_KEY}"
    )


def ui_link(uri: str, experiment: str, ui: str = DEFAULT_UI) -> str | None:
    """The URL that opens ``experiment`` of a local store in ``mlflow ui`` on the saved view;
    None when the store or the experiment does not exist yet (nothing is created)."""
    db = _sqlite_path(uri)
    local = db or _local_dir(uri)
    if local is None or not local.exists():
        return None
    from mlflow.tracking import MlflowClient

    try:
        found = MlflowClient(tracking_uri=uri).get_experiment_by_name(experiment)
    except Exception as err:  # a store of another mlflow version, a locked file: say nothing
        log.debug("mlflow store %s unreadable (%s)", uri, err)
        return None
    return None if found is None else ui.rstrip("/") + ui_path(found.experiment_id)


class Tracker:
    """One MLflow run. ``enabled=False`` (non-zero ranks, tracking.enabled false) logs nothing."""

    def __init__(
        self, cfg: Mapping[str, Any], stage: str, enabled: bool = True, device: Any = None
    ) -> None:
        self.cfg = cfg
        self.stage = stage
        self.device = device
        self.enabled = enabled and bool(runcfg.get(cfg, "tracking.enabled"))
        self.uri = resolve_uri(cfg) if self.enabled else ""
        self.run_id: str | None = None
        self._client: Any = None
        self._monitor: Any = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(
        self, resume_run_id: str | None = None, parent_run_id: str | None = None
    ) -> str | None:
        """Create the run (or reopen ``resume_run_id`` if it exists in this store).

        ``parent_run_id``: the MLflow run this one belongs under (an eval run's train run); it
        is linked only when it exists in this store.
        """
        if not self.enabled:
            return None
        from mlflow.entities import RunStatus
        from mlflow.tracking import MlflowClient

        name = str(runcfg.get(self.cfg, "tracking.experiment"))
        with store_lock(self.uri):
            self._client = retry(lambda: MlflowClient(tracking_uri=self.uri), "open store")
            experiment_id = retry(lambda: self._experiment_id(name), "experiment")
            if resume_run_id and self._exists(resume_run_id):
                self.run_id = resume_run_id
                retry(
                    lambda: self._client.update_run(
                        resume_run_id, status=RunStatus.to_string(RunStatus.RUNNING)
                    ),
                    "reopen run",
                )
                log.info("continuing MLflow run %s in %s", resume_run_id, self.uri)
                self.set_tags(provenance_tags(self.cfg, self.device))
                self._start_monitor(resume=True)
                return self.run_id
            if resume_run_id:
                log.warning(
                    "MLflow run %s from the checkpoint is not in %s; starting a new run",
                    resume_run_id,
                    self.uri,
                )
            tags = {**run_tags(self.cfg, self.stage), **provenance_tags(self.cfg, self.device)}
            if parent_run_id and self._exists(parent_run_id):
                from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

                tags[MLFLOW_PARENT_RUN_ID] = parent_run_id
            run = retry(
                lambda: self._client.create_run(
                    experiment_id,
                    run_name=str(runcfg.get(self.cfg, "run_id")),
                    tags=tags,
                ),
                "create run",
            )
        self.run_id = run.info.run_id
        self.log_params(flat_params(self.cfg))
        self._supersede_older(experiment_id, tags[TAG_PREFIX + "config_fingerprint"])
        self._start_monitor(resume=False)
        log.info("MLflow run %s (%s) in %s", self.run_id, runcfg.get(self.cfg, "run_id"), self.uri)
        return self.run_id

    def _experiment_id(self, name: str) -> str:
        """The experiment's id, created with its tags if new; its saved view widened when this
        run's name is longer than the name column it holds."""
        experiment = self._client.get_experiment_by_name(name)
        width = name_column_width(str(runcfg.get(self.cfg, "run_id")))
        now = int(time.time() * 1000)
        db = _sqlite_path(self.uri)
        # a copied or moved checkout: artifacts go into its own mlruns/, not the original's
        local = experiment is not None and db is not None
        if local and relocate_artifacts(db, experiment.artifact_location):
            experiment = self._client.get_experiment_by_name(name)
        if experiment is None:
            location = (db.parent / DEFAULT_FILE_STORE / _safe(name)).as_uri() if db else None
            tags = {EXPERIMENT_KIND_TAG: EXPERIMENT_KIND, VIEW_TAG: runs_view(width, now, now)}
            return self._client.create_experiment(name, artifact_location=location, tags=tags)
        exp_id, tags = experiment.experiment_id, experiment.tags
        if tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:
            self._client.set_experiment_tag(exp_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
        if _view_width(tags.get(VIEW_TAG)) < width:
            try:
                created = int(json.loads(tags[VIEW_TAG])["createdAt"])
            except (KeyError, ValueError, TypeError):
                created = now
            self._client.set_experiment_tag(exp_id, VIEW_TAG, runs_view(width, created, now))
        return exp_id

    def _supersede_older(self, experiment_id: str, fingerprint: str) -> None:
        """Mark earlier runs of this run id and stage made with another config as superseded."""
        older = _runs_of(
            self._client, experiment_id, str(runcfg.get(self.cfg, "run_id")), self.stage, 1000
        )
        for run in older:
            tags = run.data.tags
            if (
                run.info.run_id != self.run_id
                and tags.get(TAG_PREFIX + "config_fingerprint") != fingerprint
                and TAG_PREFIX + "superseded_by" not in tags
            ):
                self._safe_call(
                    lambda r=run: self._client.set_tag(
                        r.info.run_id, TAG_PREFIX + "superseded_by", self.run_id
                    ),
                    "mark superseded run",
                )

    def _start_monitor(self, resume: bool) -> None:
        """MLflow's system-metrics monitor (CPU/GPU utilisation, memory, disk, network)."""
        if not _system_metrics_wanted():
            return
        try:
            from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

            self._monitor = SystemMetricsMonitor(
                self.run_id, resume_logging=resume, tracking_uri=self.uri
            )
            self._monitor.start()
        except Exception as err:  # psutil missing, unsupported platform: the run goes on
            log.warning("MLflow system metrics unavailable (%s)", err)
            self._monitor = None

    def find_run(self, run_id: str, stage: str) -> str | None:
        """The newest MLflow run of ``run_id`` at ``stage`` in this store, if any."""
        if not self.enabled:
            return None
        from mlflow.tracking import MlflowClient

        client = self._client or MlflowClient(tracking_uri=self.uri)
        name = str(runcfg.get(self.cfg, "tracking.experiment"))
        experiment = self._safe_call(lambda: client.get_experiment_by_name(name), "experiment")
        if experiment is None:
            return None
        runs = _runs_of(client, experiment.experiment_id, run_id, stage, 1)
        return runs[0].info.run_id if runs else None

    def _exists(self, run_id: str) -> bool:
        try:
            retry(lambda: self._client.get_run(run_id), "get run")
            return True
        except Exception as err:
            if _is_transient(err):
                raise
            return False

    def end(self, status: str = "FINISHED") -> None:
        """Mark the run FINISHED / FAILED / KILLED (pre-empted: resumed later, same run)."""
        if self.run_id is None:
            return
        if self._monitor is not None:
            self._monitor.finish()
            self._monitor = None
        self._safe_call(lambda: self._client.set_terminated(self.run_id, status=status), "end run")

    # -- logging ---------------------------------------------------------------------------
    def log_model_cost(self, cost: Callable[[Mapping[str, Any]], dict[str, float]]) -> None:
        """The model's GFLOPs and parameters as metrics (the saved view's cost columns).

        ``cost`` counts them from the run config (``measure.profiling.run_cost``: measuring sits
        above the engine, so the command that evaluates passes it in)."""
        if self.run_id is None:
            return
        counted = self._safe_call(lambda: cost(self.cfg), "count the model's cost")
        if counted:
            self.log_metrics(counted)

    def log_params(self, params: Mapping[str, str]) -> None:
        from mlflow.entities import Param
        from mlflow.utils.validation import MAX_PARAMS_TAGS_PER_BATCH

        items = [Param(k, v) for k, v in params.items()]
        for i in range(0, len(items), MAX_PARAMS_TAGS_PER_BATCH):
            chunk = items[i : i + MAX_PARAMS_TAGS_PER_BATCH]
            retry(lambda c=chunk: self._client.log_batch(self.run_id, params=c), "log params")

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if self.run_id is None:
            return
        from mlflow.entities import RunTag

        batch = [RunTag(k, str(v)) for k, v in tags.items()]
        self._safe_call(lambda: self._client.log_batch(self.run_id, tags=batch), "set tags")

    def log_metrics(self, metrics: Mapping[str, float | None], step: int | None = None) -> None:
        """Finite values only (an epoch without validation has no val_top1)."""
        if self.run_id is None:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [
            Metric(k, float(v), now, step or 0)
            for k, v in metrics.items()
            if v is not None and math.isfinite(float(v))
        ]
        if batch:
            self._safe_call(
                lambda: self._client.log_batch(self.run_id, metrics=batch), "log metrics"
            )

    def sync_history(self, history: list[Mapping[str, Any]], keys: Iterable[str]) -> None:
        """Log epochs of ``history`` the run lacks (after a crash between checkpoint and log)."""
        if self.run_id is None or not history:
            return
        for key in keys:
            logged = self._safe_call(
                lambda k=key: {m.step for m in self._client.get_metric_history(self.run_id, k)},
                "read history",
            )
            if logged is None:
                return
            for row in history:
                if row["epoch"] not in logged:
                    self.log_metrics({key: row.get(key)}, step=row["epoch"])

    def log_artifacts(self, paths: Iterable[str | Path], subdir: str | None = None) -> None:
        if self.run_id is None:
            return
        for path in paths:
            if Path(path).is_file():
                self._safe_call(
                    lambda p=path: self._client.log_artifact(self.run_id, str(p), subdir),
                    f"log artifact {path}",
                )

    def _safe_call(self, fn: Callable[[], T], what: str) -> T | None:
        """Logging after start never kills a training job: the numbers are in files anyway."""
        try:
            return retry(fn, what)
        except Exception as err:
            log.warning("MLflow %s failed (%s); continuing without it", what, err)
            return None


def _runs_of(client: Any, experiment_id: str, run_id: str, stage: str, limit: int) -> list:
    """MLflow runs of one run id and stage, newest first; [] when the store cannot be searched."""
    rid = run_id.replace("'", "")
    query = f"tags.run_id = '{rid}' and tags.stage = '{stage}'"
    try:
        return retry(
            lambda: client.search_runs(
                [experiment_id],
                query,
                order_by=["attributes.start_time DESC"],
                max_results=limit,
            ),
            "search runs",
        )
    except Exception as err:  # logging never kills a job: the numbers are in files anyway
        log.warning("MLflow search runs failed (%s); continuing without it", err)
        return []


def relocate_artifacts(db: Path, location: str | None) -> bool:
    """Point a copied or moved sqlite store's artifact locations at the ``mlruns/`` beside it.

    ``location`` is one experiment's stored artifact location. Only locations this module
    creates (``<root>/mlruns/<experiment>``) are recognised; if that ``mlruns/`` is not the one
    beside ``db`` (and not the same directory under another path), every experiment location and
    run artifact URI under it is rewritten. Returns whether anything changed.
    """
    import sqlite3

    old = _local_dir(location or "")
    here = db.parent / DEFAULT_FILE_STORE
    if old is None or old.parent.name != DEFAULT_FILE_STORE:
        return False
    old_root = old.parent
    if old_root == here or _same_dir(old_root, here):
        return False
    old_prefix, new_prefix = old_root.as_uri() + "/", here.as_uri() + "/"

    def rewrite() -> int:
        with contextlib.closing(sqlite3.connect(db, timeout=30)) as con, con:
            changed = 0
            for table, column in (("experiments", "artifact_location"), ("runs", "artifact_uri")):
                changed += con.execute(
                    f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                    f"WHERE substr({column}, 1, ?) = ?",
                    (new_prefix, len(old_prefix) + 1, len(old_prefix), old_prefix),
                ).rowcount
            return changed

    changed = retry(rewrite, "relocate artifacts")
    if changed:
        try:  # this process's cache of artifact repositories by run id holds the old paths
            from mlflow.tracking._tracking_service import utils as mlflow_utils

            mlflow_utils._artifact_repos_cache.clear()
        except (ImportError, AttributeError):  # pragma: no cover - another mlflow layout
            pass
        log.warning(
            "MLflow store %s was copied or moved: %d artifact locations under %s now point to %s",
            db,
            changed,
            old_root,
            here,
        )
    return bool(changed)


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
