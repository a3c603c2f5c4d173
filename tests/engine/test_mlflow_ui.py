"""The runs table a user of `mlflow ui` sees, checked in headless Chromium on a real server.

The demo grid's train and eval runs are logged through actionbench's own Tracker (what the train
and evaluate jobs call) into a real `mlflow server`, and the link ``tracking.ui_path`` gives (the
one `actionbench status` prints, ``tracking.ui_link``, and the README documents) is opened in
Chromium. The page must be MLflow's runs table (not the GenAI overview an experiment
opens on by default), list each evaluated run once under a name shown whole, and show the
comparison columns without a click.
"""

from __future__ import annotations

import json

import pytest
from engine_tiny import tracking_cfg

from actionbench.config import expand_grid, load_params, run_protocol
from actionbench.engine import tracking
from actionbench.measure.profiling import run_cost
from headless_chromium import Page, require_chromium

pytestmark = pytest.mark.integration

EXPERIMENT = "ui-test"
# a run id longer than the demo's: the name column must widen for it
LONG = "mini-synthetic/tam-resnet18-tp-dense-uniform_half-paper/f16"

VISIBLE_RUNS = """(() => {
  const links = [...document.querySelectorAll('.ag-center-cols-container a, .ag-pinned-left-cols-container a')]
    .filter(a => a.textContent.includes('/f'));
  if (!links.length) return null;
  return links.map(a => {
    const text = document.createRange();
    text.selectNodeContents(a);
    return {name: a.textContent, text_px: text.getBoundingClientRect().width, shown_px: a.clientWidth};
  });
})()"""
HEADERS = """[...document.querySelectorAll('.ag-header-cell[col-id]')].map(e => e.getAttribute('col-id'))"""


def _log_grid(params: dict, uri: str) -> list[str]:
    """Train and eval runs of the grid (and one long run id), logged as the jobs log them."""
    run_ids = []
    for i, rid in enumerate(expand_grid(params)):
        cfg = run_protocol(params, rid)
        # what config.resolve_run adds from the class list
        cfg["num_classes"] = 8
        cfg["tracking"] = {"experiment": EXPERIMENT, "tracking_uri": uri}
        names = [rid] if i else [rid, LONG]  # the long id reuses the first run's config
        for name in names:
            cfg = {**cfg, "run_id": name}
            train = tracking.Tracker(cfg, "train")
            train.start()
            train.log_metrics({"loss": 1.0, "val_top1": 50.0}, step=1)
            train.end()
            evaluation = tracking.Tracker(cfg, "eval")
            evaluation.start(parent_run_id=train.run_id)
            evaluation.log_model_cost(run_cost)
            evaluation.log_metrics(
                {"clip_top1": 60.0 + i, "video_top1": 61.0 + i, "clip_top1_temporal": 50.0 + i}
            )
            evaluation.end()
            run_ids.append(name)
    return run_ids


def test_the_documented_link_opens_the_runs_table_with_the_comparison_columns(
    tmp_path, params_file, base_params, monkeypatch, mlflow_server_url
):
    require_chromium()
    monkeypatch.setenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "false")
    uri = mlflow_server_url
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    base_params["project"]["runs_dir"] = str(tmp_path / "runs")
    run_ids = _log_grid(load_params(params_file(base_params)), uri)
    assert len(run_ids) == 5

    # a re-run with a changed config supersedes the old eval run: the view lists the new one only
    first = run_protocol(load_params(params_file(base_params)), run_ids[0])
    first["tracking"] = {"experiment": EXPERIMENT, "tracking_uri": uri}
    first["optim"] = {**first["optim"], "lr": first["optim"]["lr"] / 2}
    rerun = tracking.Tracker(first, "eval")
    rerun.start()
    rerun.log_metrics({"clip_top1": 70.0})
    rerun.end()

    from mlflow.tracking import MlflowClient

    experiment = MlflowClient(uri).get_experiment_by_name(EXPERIMENT)
    page = Page(tmp_path / "chromium", width=2600, height=1000)
    try:
        page.goto(uri + tracking.ui_path(experiment.experiment_id))
        runs = page.wait_for(VISIBLE_RUNS)
        title = page.evaluate("document.title")
        headers = page.evaluate(HEADERS)
        text = page.evaluate("document.body.innerText")
    finally:
        page.close()

    assert title.startswith("Runs"), title  # the runs table, not the GenAI "Overview"
    assert "Detect Issues" not in text and "Token Usage" not in text
    names = [r["name"] for r in runs]
    assert sorted(names) == sorted(run_ids), names  # each evaluated, current run once
    for r in runs:  # the whole name is on screen: MLflow cuts it with an ellipsis otherwise
        assert r["text_px"] <= r["shown_px"] + 1, r
    columns = set(headers)
    for metric in ("clip_top1", "video_top1", "clip_top1_temporal", "gflops", "params_m"):
        assert f"metrics.`{metric}`" in columns, (metric, headers)
    for tag in tracking.VIEW_TAGS:
        assert f"tags.`{tag}`" in columns, (tag, headers)


def test_the_view_widens_for_longer_names_and_keeps_its_creation_time(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "false")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert tracking.ui_link(uri, EXPERIMENT) is None  # no store yet: none is created
    assert not (tmp_path / "mlflow.db").exists()
    cfg = tracking_cfg("d/tsn-r/f8", EXPERIMENT)
    from mlflow.tracking import MlflowClient

    def view() -> dict:
        tags = MlflowClient(uri).get_experiment_by_name(EXPERIMENT).tags
        envelope = json.loads(tags[tracking.VIEW_TAG])
        return {**envelope, "state": json.loads(envelope["state"])}

    for name in ("d/tsn-r/f8", "d/a-much-longer-model-name/f16", "d/t/f8"):
        tracker = tracking.Tracker({**cfg, "run_id": name}, "eval")
        tracker.start()
        tracker.end()
        if name == "d/tsn-r/f8":
            created = view()["createdAt"]
    saved = view()
    assert saved["name"] == tracking.VIEW_NAME and saved["createdAt"] == created
    width = saved["state"]["columnWidths"][tracking.RUN_NAME_COLUMN]
    assert width == tracking.name_column_width("d/a-much-longer-model-name/f16")
    assert saved["state"]["searchFilter"] == tracking.VIEW_FILTER
    assert tracking.ui_link(uri, EXPERIMENT) == (
        tracking.DEFAULT_UI
        + tracking.ui_path(MlflowClient(uri).get_experiment_by_name(EXPERIMENT).experiment_id)
    )
