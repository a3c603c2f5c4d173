"""Clip-level and video-level evaluation (paper sec. 3 "Evaluation", supplementary D.1/D.2).

* Clip level: ONE clip per video (the layout's single test clip, docs/data.md section 5:
  uniform sampling the middle frames, dense the first clip) and one centre crop of
  ``data.test_crop_size`` after resizing the shorter side to ``data.scale_size``.
  This is the paper's default number.
* Video level: ``eval.num_clips`` clips x ``eval.num_crops`` crops per video; the LOGITS of all
  views are averaged (as the reference ``test.py`` does: mean of the model outputs, no softmax),
  and the prediction is the arg-max of that mean.
* ``acc_vs_clips.csv``: top-1/top-5 when only the first k of the m clips (all crops) are
  averaged, k = 1..m, in the order the sampler produces the clips (paper Fig. 8).
* Short videos: videos with fewer than ``data.eval_min_frames`` frames are not scored (under the
  ``reference`` layout the reference's ``filter_video``, as its ``test.py -e`` does: Kinetics 30,
  SSV2 3). ``metrics.json`` counts them (``num_videos`` scored, ``num_videos_listed``,
  ``num_videos_dropped``, and the ``eval_min_frames`` that dropped them) and ``dropped.csv``
  names them (video_id, num_frames, reason).

Outputs go to ``<output_dir>/eval/`` (see docs/engine.md); accuracies are percentages.
The dataset's test views are expected clip-major: view ``v = clip * num_crops + crop``.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset

from actionbench.code_version import code_version
from actionbench.data.lists import read_csv_table
from actionbench.engine import checkpoint as ckpt
from actionbench.engine import distributed, factory, metrics, runcfg
from actionbench.engine.loader import ShardSampler, make_loader
from actionbench.engine.runtime import Runtime
from actionbench.engine.tracking import Tracker
from actionbench.errors import DataError, ModelError
from actionbench.identity import eval_identity
from actionbench.progress import Progress

log = logging.getLogger(__name__)

Reducer = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]


def device_transform(dataset: Dataset) -> Callable[[torch.Tensor], torch.Tensor]:
    """The dataset's batch transform that runs on the device (uint8 -> normalised float).

    Datasets that yield ready float clips (test stand-ins) have none: batches pass unchanged.
    """
    transform = getattr(dataset, "device_transform", None)
    return transform if transform is not None else (lambda batch: batch)


def _clip_reducer(logits: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    return {"logits": logits[:, 0, :]}


def _video_reducer(num_clips: int, num_crops: int) -> Reducer:
    """Mean logits over all views, and the cumulative mean over the first k clips (k = 1..m)."""

    def reduce(logits: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
        batch, views, classes = logits.shape
        if views != num_clips * num_crops:
            raise DataError(
                f"dataset returned {views} views per video, expected eval.num_clips x "
                f"eval.num_crops = {num_clips} x {num_crops}"
            )
        per_clip = logits.reshape(batch, num_clips, num_crops, classes).mean(axis=2)
        cumulative = np.cumsum(per_clip, axis=1) / np.arange(1, num_clips + 1)[None, :, None]
        cumulative = cumulative.astype(np.float32)
        return {
            "logits": cumulative[:, -1, :],
            "cum_top1": (cumulative.argmax(axis=-1) == labels[:, None]),
            "cum_top5": metrics.topk_hits(cumulative, np.repeat(labels[:, None], num_clips, 1), 5),
        }

    return reduce


def predict(
    model: nn.Module,
    dataset: Dataset,
    rt: Runtime,
    batch_size: int,
    workers: int,
    reduce: Reducer,
    desc: str,
) -> dict[str, np.ndarray]:
    """Run every video through ``model`` (sharded over ranks), gathered in dataset order.

    Returns ``index`` and ``label`` arrays plus whatever ``reduce`` computes per batch from
    the (videos, views, classes) logits -- reducing per batch keeps memory flat for 30-view tests.
    """
    sampler = ShardSampler(len(dataset), rt.env.rank, rt.env.world_size)  # type: ignore[arg-type]
    loader = make_loader(dataset, sampler, batch_size, workers, rt.device.type == "cuda")
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    progress = Progress(len(loader), desc, enabled=rt.env.is_main, interval_s=rt.log_interval_s)
    on_device = device_transform(dataset)
    model.eval()
    with torch.no_grad():
        for clips, labels, index in loader:
            if clips.dim() == 5:  # (B, C, T, H, W): a single view
                clips = clips.unsqueeze(1)
            videos, views = clips.shape[:2]
            with rt.autocast():
                out = model(on_device(rt.to_device(clips.flatten(0, 1))))
            logits = out.float().reshape(videos, views, -1).cpu().numpy()
            label_np = labels.numpy().astype(np.int64)
            for key, value in reduce(logits, label_np).items():
                parts[key].append(value)
            parts["label"].append(label_np)
            parts["index"].append(index.numpy().astype(np.int64))
            progress.update(1)
    progress.close()
    local = {k: np.concatenate(v) for k, v in parts.items()}
    gathered = distributed.all_gather_objects(local)
    merged = {k: np.concatenate([g[k] for g in gathered if k in g]) for k in gathered[0]}
    if not merged:
        raise DataError(f"{desc}: the dataset is empty")
    order = np.argsort(merged["index"], kind="stable")
    return {k: v[order] for k, v in merged.items()}


def validate(
    model: nn.Module, dataset: Dataset, rt: Runtime, batch_size: int, workers: int
) -> float:
    """Clip-level top-1 (percent) on the validation list: the curve in history.csv."""
    out = predict(model, dataset, rt, batch_size, workers, _clip_reducer, "val")
    return metrics.percent(out["logits"].argmax(axis=1) == out["label"])


DROPPED_COLUMNS = ["video_id", "num_frames", "reason"]


def scored_and_dropped(dataset: Dataset) -> tuple[np.ndarray, pd.DataFrame]:
    """(list row of each dataset item, the listed videos the dataset leaves out and why).

    A dataset that drops nothing (or a stand-in without these attributes) maps item i to row i.
    """
    rows = getattr(dataset, "list_rows", None)
    rows = np.arange(len(dataset)) if rows is None else np.asarray(rows)  # type: ignore[arg-type]
    dropped = pd.DataFrame(getattr(dataset, "dropped", []), columns=DROPPED_COLUMNS)
    return rows, dropped


def _video_table(
    list_csv: str, list_rows: np.ndarray, num_dropped: int, labels: np.ndarray, indices: np.ndarray
) -> pd.DataFrame:
    """The val list rows in dataset order; checks that the dataset kept or dropped every row and
    did not reorder them."""
    table = read_csv_table(list_csv, ["video_id", "label", "label_name"])
    if len(table) != len(list_rows) + num_dropped:
        raise DataError(
            f"{list_csv} has {len(table)} rows but the dataset holds {len(list_rows)} videos "
            f"and dropped {num_dropped}; evaluation maps dataset indices to list rows"
        )
    table = table.iloc[list_rows[indices]].reset_index(drop=True)
    bad = np.flatnonzero(table["label"].to_numpy(dtype=np.int64) != labels)
    if bad.size:
        raise DataError(
            f"{list_csv}: row {int(indices[bad[0]])} has label {int(table['label'][bad[0]])} but the "
            f"dataset returned {int(labels[bad[0]])} for that index"
        )
    return table


def _class_names(cfg: Mapping[str, Any], table: pd.DataFrame, num_classes: int) -> list[str]:
    names = {int(r.label): str(r.label_name) for r in table[["label", "label_name"]].itertuples()}
    classes_csv = runcfg.get(cfg, "data.classes")
    if classes_csv and Path(classes_csv).is_file():
        classes = pd.read_csv(classes_csv, dtype={"label_name": str}, keep_default_na=False)
        if {"label", "label_name"} <= set(classes.columns):
            names.update({int(r.label): str(r.label_name) for r in classes.itertuples()})
    return [names.get(k, str(k)) for k in range(num_classes)]


def summarize(
    cfg: Mapping[str, Any],
    clip: dict[str, np.ndarray],
    video: dict[str, np.ndarray],
    table: pd.DataFrame,
    dropped: pd.DataFrame | None = None,
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """metrics.json content and the CSV tables, from gathered clip- and video-level outputs.

    ``dropped``: the listed videos left unscored (``scored_and_dropped``); ``num_videos`` counts
    the scored ones, ``num_videos_dropped`` the others, all shorter than ``eval_min_frames``."""
    dropped = pd.DataFrame(columns=DROPPED_COLUMNS) if dropped is None else dropped
    num_classes = runcfg.get_int(cfg, "num_classes", minimum=1)
    labels = clip["label"]
    clip_logits, video_logits = clip["logits"], video["logits"]
    if clip_logits.shape[1] != num_classes:
        raise ModelError(
            f"model outputs {clip_logits.shape[1]} classes but num_classes is {num_classes}"
        )
    clip_pred, video_pred = clip_logits.argmax(axis=1), video_logits.argmax(axis=1)
    result: dict[str, Any] = {
        "num_videos": int(labels.size),
        "num_videos_listed": int(labels.size) + len(dropped),
        "num_videos_dropped": len(dropped),
        # why: the videos with fewer frames than this are not scored (1: every video is)
        "eval_min_frames": int(factory.data_protocol(cfg)["eval_min_frames"]),
        "num_clips": runcfg.get_int(cfg, "eval.num_clips", minimum=1),
        "num_crops": runcfg.get_int(cfg, "eval.num_crops", minimum=1),
        "clip_top1": metrics.percent(clip_pred == labels),
        "clip_top5": metrics.percent(metrics.topk_hits(clip_logits, labels, 5)),
        "video_top1": metrics.percent(video_pred == labels),
        "video_top5": metrics.percent(metrics.topk_hits(video_logits, labels, 5)),
        "clip_mean_class_acc": metrics.mean_class_accuracy(clip_pred, labels, num_classes),
        "video_mean_class_acc": metrics.mean_class_accuracy(video_pred, labels, num_classes),
    }
    result["mean_class_acc"] = result["clip_mean_class_acc"]  # clip level is the paper's default
    names = _class_names(cfg, table, num_classes)
    predictions = pd.DataFrame(
        {
            "video_id": table["video_id"],
            "label": labels,
            "label_name": [names[k] for k in labels],
        }
    )
    if "group" in table.columns:
        predictions["group"] = table["group"].astype(str)
        for group in sorted(predictions["group"].unique()):
            mask = (predictions["group"] == group).to_numpy()
            key = "".join(c if c.isalnum() else "_" for c in group)
            result[f"clip_top1_{key}"] = metrics.percent(clip_pred[mask] == labels[mask])
            result[f"video_top1_{key}"] = metrics.percent(video_pred[mask] == labels[mask])
            result[f"num_videos_{key}"] = int(mask.sum())
    predictions["clip_pred"] = clip_pred
    predictions["video_pred"] = video_pred
    logit_columns = {f"clip_logit_{k}": clip_logits[:, k] for k in range(num_classes)}
    logit_columns.update({f"video_logit_{k}": video_logits[:, k] for k in range(num_classes)})
    predictions = pd.concat([predictions, pd.DataFrame(logit_columns)], axis=1)

    per_class = pd.DataFrame(
        {
            "label": np.arange(num_classes),
            "label_name": names,
            "num_videos": np.bincount(labels, minlength=num_classes),
            "clip_top1": metrics.per_class_accuracy(clip_pred, labels, num_classes),
            "video_top1": metrics.per_class_accuracy(video_pred, labels, num_classes),
        }
    )
    acc_vs_clips = pd.DataFrame(
        {
            "num_clips": np.arange(1, video["cum_top1"].shape[1] + 1),
            "top1": 100.0 * video["cum_top1"].mean(axis=0),
            "top5": 100.0 * video["cum_top5"].mean(axis=0),
        }
    )

    def confusion(pred: np.ndarray) -> pd.DataFrame:
        matrix = metrics.confusion_matrix(pred, labels, num_classes)
        return pd.DataFrame(
            matrix,
            index=pd.Index(range(num_classes), name="true_label"),
            columns=[str(k) for k in range(num_classes)],
        )

    tables = {
        "predictions.csv": predictions,
        "per_class.csv": per_class,
        "confusion_clip.csv": confusion(clip_pred),
        "confusion_video.csv": confusion(video_pred),
        "acc_vs_clips.csv": acc_vs_clips,
        "dropped.csv": dropped,
    }
    return result, tables


def evaluate(
    run_cfg: dict,
    checkpoint: str | None = None,
    model_cost: Callable[[Mapping[str, Any]], dict[str, float]] | None = None,
) -> dict:
    """Evaluate a trained run on ``data.val_list``; writes ``<output_dir>/eval/*``, returns metrics.

    ``checkpoint`` defaults to ``<output_dir>/final.pt``; a training checkpoint (last.pt) works too.
    ``model_cost`` (``measure.profiling.run_cost``) counts the model's GFLOPs and parameters for
    MLflow's runs table.
    """
    cfg = run_cfg
    out_dir = runcfg.output_dir(cfg)
    weights = Path(checkpoint) if checkpoint else ckpt.final_path(out_dir)
    if not weights.is_file():
        raise ModelError(
            f"checkpoint {weights} does not exist: train the run first (actionbench train)"
        )
    rt = Runtime.setup(cfg)
    tracker = Tracker(cfg, "eval", enabled=rt.env.is_main, device=rt.device)
    try:
        start = time.monotonic()
        model = factory.build_model(cfg, pretrained=None)
        try:
            model.load_state_dict(
                ckpt.state_dict_from(ckpt.load(weights, error=ModelError), weights)
            )
        except RuntimeError as err:
            raise ModelError(f"checkpoint {weights} does not fit the run's model: {err}") from err
        model = rt.compiled(rt.prepare_model(model))
        num_clips = runcfg.get_int(cfg, "eval.num_clips", minimum=1)
        num_crops = runcfg.get_int(cfg, "eval.num_crops", minimum=1)
        batch = runcfg.get_int(cfg, "eval.batch_size", minimum=1)
        workers = runcfg.get_int(cfg, "data.workers", minimum=0)
        tracker.start(parent_run_id=_train_mlflow_run(tracker, cfg, out_dir, weights))
        tracker.set_tags({"checkpoint": str(weights)})
        if model_cost is not None:
            tracker.log_model_cost(model_cost)

        clip_ds = factory.build_dataset(cfg, "val", train=False)
        clip = predict(model, clip_ds, rt, batch, workers, _clip_reducer, "eval clip")
        if num_clips * num_crops == 1:
            video = {
                **clip,
                "cum_top1": (clip["logits"].argmax(1) == clip["label"])[:, None],
                "cum_top5": metrics.topk_hits(clip["logits"], clip["label"], 5)[:, None],
            }
        else:
            video_ds = factory.build_dataset(
                cfg, "val", train=False, num_clips=num_clips, num_crops=num_crops
            )
            video = predict(
                model,
                video_ds,
                rt,
                batch,
                workers,
                _video_reducer(num_clips, num_crops),
                "eval video",
            )
        if not np.array_equal(clip["index"], video["index"]):
            raise DataError("clip- and video-level datasets enumerate different videos")

        result: dict[str, Any] = {}
        if rt.env.is_main:
            list_rows, dropped = scored_and_dropped(clip_ds)
            table = _video_table(
                runcfg.get(cfg, "data.val_list"),
                list_rows,
                len(dropped),
                clip["label"],
                clip["index"],
            )  # type: ignore[arg-type]
            result, tables = summarize(cfg, clip, video, table, dropped)
            result["eval_seconds"] = time.monotonic() - start
            result["code"] = code_version()
            result["identity"] = eval_identity(cfg, weights)
            result["checkpoint"] = str(weights)  # another than final.pt: an imported checkpoint
            eval_dir = out_dir / "eval"
            eval_dir.mkdir(parents=True, exist_ok=True)
            for name, frame in tables.items():
                ckpt.atomic_write_bytes(
                    eval_dir / name, frame.to_csv(index=name.startswith("confusion")).encode()
                )
            runcfg.write_json(eval_dir / "config.json", cfg)
            runcfg.write_json(eval_dir / "metrics.json", result)
            tracker.log_metrics({k: v for k, v in result.items() if isinstance(v, (int, float))})
            tracker.log_artifacts(sorted(eval_dir.glob("*")), "eval")
            log.info(
                "%s: clip top-1 %.2f%%, video top-1 %.2f%% (%d videos, %dx%d views)%s",
                runcfg.get(cfg, "run_id"),
                result["clip_top1"],
                result["video_top1"],
                result["num_videos"],
                num_clips,
                num_crops,
                f"; {len(dropped)} listed video(s) with fewer than "
                f"{result['eval_min_frames']} frames not scored (data.eval_min_frames)"
                if len(dropped)
                else "",
            )
        tracker.end("FINISHED")
        return distributed.broadcast_object(result)
    except BaseException:
        tracker.end("FAILED")
        raise
    finally:
        rt.close()


def _train_mlflow_run(tracker: Tracker, cfg: Any, out_dir: Path, weights: Path) -> str | None:
    """The MLflow run of the training that wrote ``weights``: the eval run's parent.

    train_metrics.json beside the run's own final.pt names it; otherwise (an imported or moved
    checkpoint) the newest train run of this run id in the store.
    """
    if not tracker.enabled:
        return None
    metrics_file = out_dir / "train_metrics.json"
    if weights.resolve() == ckpt.final_path(out_dir).resolve() and metrics_file.is_file():
        try:
            recorded = json.loads(metrics_file.read_text()).get("mlflow_run_id")
        except (OSError, ValueError):
            recorded = None
        if recorded:
            return str(recorded)
    return tracker.find_run(str(runcfg.get(cfg, "run_id")), "train")
