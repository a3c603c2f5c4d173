"""`actionbench train` / `actionbench evaluate` argument handling and exit codes."""

from __future__ import annotations

import json
import logging

from actionbench.cli import main


def test_train_and_evaluate_from_config_file(tmp_path, tiny_factory):
    cfg = tiny_factory.make_cfg(
        tmp_path, schedule={"epochs": 1}, tracking={"experiment": "cli", "enabled": False}
    )
    config = tmp_path / "run.json"
    config.write_text(json.dumps(cfg))
    assert main(["train", "--config", str(config)]) == 0
    assert main(["evaluate", "--config", str(config)]) == 0
    assert (tmp_path / "run" / "final.pt").is_file()
    assert json.loads((tmp_path / "run" / "eval" / "metrics.json").read_text())["num_videos"] == 9


def test_missing_or_conflicting_sources_exit_2(tmp_path, caplog):
    caplog.set_level(logging.ERROR)
    assert main(["train"]) == 2
    assert "need --params PARAMS.yaml --run RUN_ID, or --config RUN.json" in caplog.text
    assert main(["evaluate", "--config", "x.json", "--run", "a/b/f8"]) == 2
    assert main(["train", "--config", str(tmp_path / "missing.json")]) == 2
    assert "missing.json does not exist" in caplog.text
