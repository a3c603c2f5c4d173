"""Shared fixtures: importable sources, an MLflow store under tmp, the tiny factory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SRC = REPO / "src"
for path in (SRC, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> str:
    """One store for the session: creating a SQLite store (schema migrations) costs seconds."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="session")
def mlflow_server_url(tmp_path_factory):
    """One real `mlflow server` (SQLite store, served artifacts) for the session's UI and REST
    tests: starting one costs ~25 s on a loaded 2-core machine."""
    from mlflow_server import mlflow_server

    root = tmp_path_factory.mktemp("mlflow-server")
    with mlflow_server(root, root / "store.db") as base:
        yield base


@pytest.fixture(autouse=True)
def mlflow_in_tmp(mlflow_store, monkeypatch):
    """Tests never write an MLflow store into the repo; give each test its own experiment name."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    return mlflow_store


@pytest.fixture
def tiny_factory(monkeypatch):
    import engine_tiny as tiny

    from actionbench.engine import factory

    monkeypatch.setattr(factory, "build_model", tiny.build_model)
    monkeypatch.setattr(factory, "build_dataset", tiny.build_dataset)
    return tiny


def pytest_collection_modifyitems(config, items):
    """This directory's ``slow`` tests run only when asked for (``-m slow``), as pyproject says."""
    if config.option.markexpr:
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords and HERE in Path(item.path).parents:
            item.add_marker(skip)
