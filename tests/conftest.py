"""Shared fixtures: the repository root and params a test builds for itself (the demo study of
study_params.demo_params, never the user's params.yaml), with a writer that puts them beside a
copy of the schema."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from study_params import demo_params

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_mlflow(tmp_path_factory, monkeypatch):
    """No test ever writes into the repository's MLflow store."""
    if "MLFLOW_TRACKING_URI" not in os.environ:
        store = tmp_path_factory.mktemp("mlflow")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}/mlflow.db")


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def base_params() -> dict:
    """A fresh demo study to edit (what the shipped params.yaml holds for the demo)."""
    return demo_params()


@pytest.fixture
def params_file(tmp_path, base_params):
    """Write a (modified) params dict next to a copy of the schema; returns a writer."""
    schema_dst = tmp_path / "workflow" / "schemas"
    schema_dst.mkdir(parents=True)
    (schema_dst / "params.schema.yaml").write_text(
        (REPO / "workflow" / "schemas" / "params.schema.yaml").read_text()
    )

    def write(params: dict | None = None) -> Path:
        path = tmp_path / "params.yaml"
        path.write_text(yaml.safe_dump(params if params is not None else base_params))
        return path

    return write
