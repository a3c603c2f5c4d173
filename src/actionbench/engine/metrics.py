"""Accuracy bookkeeping shared by validation and evaluation (numpy, on gathered logits).

Accuracies are percentages (0-100), as in the paper's tables. Top-5 is top-min(5, K) so a
3-class toy problem reports a meaningful (trivially 100 %) number instead of failing.
"""

from __future__ import annotations

import numpy as np


def topk_hits(logits: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Boolean per row: is the label among the ``min(k, K)`` highest logits?"""
    k = min(k, logits.shape[-1])
    top = np.argpartition(-logits, kth=k - 1, axis=-1)[..., :k]
    return (top == labels[..., None]).any(axis=-1)


def percent(hits: np.ndarray) -> float:
    return float(100.0 * hits.mean()) if hits.size else float("nan")


def confusion_matrix(preds: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows: true class; columns: predicted class; entries: number of videos."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, preds), 1)
    return matrix


def per_class_accuracy(preds: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Recall of each class in percent; NaN for classes absent from the evaluated list."""
    totals = np.bincount(labels, minlength=num_classes).astype(float)
    correct = np.bincount(labels[preds == labels], minlength=num_classes).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, 100.0 * correct / totals, np.nan)


def mean_class_accuracy(preds: np.ndarray, labels: np.ndarray, num_classes: int) -> float:
    """Mean per-class accuracy over the classes present (robust to class imbalance)."""
    return float(np.nanmean(per_class_accuracy(preds, labels, num_classes)))
