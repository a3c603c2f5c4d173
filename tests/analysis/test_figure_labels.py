"""No two texts of a figure overlap: point labels find a free spot, the whole report is checked.

Each figure's drawn texts (titles, axis and legend labels, annotations, tick labels in view) are
compared pairwise by the boxes matplotlib computes for them (``get_window_extent``), when the
figure is written (the ``text_overlaps`` fixture). test_figures.py runs the same check on a
24-run grid of two datasets.
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt

from actionbench.analysis import figures
from actionbench.analysis.report import build_report


def test_labels_of_points_at_one_spot_do_not_overlap():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_xlim(0, 106)
    ax.set_ylim(0, 106)
    ax.set_title("a title")
    points = [(ax, 100.0, 100.0, f"f{f}") for f in (8, 16, 32, 64)]  # one spot, four runs
    points += [(ax, 96.9, 100.0, "f8"), (ax, 50.0, 50.0, "alone")]
    figures.place_labels(fig, points)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    notes = [t for t in ax.texts if t.get_text() in {"f8", "f16", "f32", "f64", "alone"}]
    assert len(notes) == len(points)
    boxes = [t.get_window_extent(renderer) for t in figures.drawn_texts(fig)]
    assert not [p for p in itertools.combinations(boxes, 2) if p[0].overlaps(p[1])]
    alone = next(t for t in notes if t.get_text() == "alone")
    assert alone.xyann == (5, 0) and alone.arrow_patch is None  # a free spot: the nearest one
    plt.close(fig)


def test_no_two_texts_overlap_in_any_figure_of_the_demo_report(demo_runs, tmp_path, text_overlaps):
    params, params_path = demo_runs
    build_report(params, tmp_path / "reports", params_path=params_path, resamples=50)
    assert "temporal_vs_spatial_clip" in text_overlaps and len(text_overlaps) >= 8
    assert {stem: pairs for stem, pairs in text_overlaps.items() if pairs} == {}
