"""The paper's tables, in the paper's shapes, filled from whatever runs of the grid exist.

Each paper table is built in two layers:

* a pure selection/computation function (``table4_runs``, ``table5_runs``, ``table6_runs``,
  ``contributions`` then ``table7_data``, ``table8_rows``, ``table10_models``): frames in,
  numbers out (which runs, in table order, with the groups compared or the consistency
  flags), nothing formatted and the inputs left untouched, so the numbers can be tested on
  their own;
* a builder (``table4`` ... ``table10``) that calls it and only formats: labels, ``fmt``, the
  display frame, notes, fairness flags and, when empty, what would fill it.

The builder takes the collected results (one row per run, see ``collect.py``) and returns a
``Table``: a display frame (formatted strings, possibly with multi-level rows/columns), the same
numbers in tidy form (written as CSV), notes, and fairness flags for the runs it compares.
A table none of whose runs exist is returned with ``frame=None`` and ``missing`` saying which
runs would fill it: numbers are never invented.

Clip-level (one clip, the paper's default) and video-level (``eval.num_clips`` x
``eval.num_crops`` views) top-1 are shown side by side.

One module per table: ``base`` (the ``Table`` type and the shared steps), ``results``,
``protocol``, ``published`` (published numbers beside ours), ``table4_transfer``, ``table5_aggregation``, ``table6_tam_locations``,
``table7_effects``, ``table8_speed``, ``table10_cost``. This package re-exports their public
names, so ``tables.table5(...)`` reads as before.
"""

from actionbench.analysis.tables.base import (
    ARCH_ORDER,
    DASH,
    LEVELS,
    Table,
    arch_key,
    backbone_key,
    fmt,
    fmt_p,
)
from actionbench.analysis.tables.protocol import protocol_table
from actionbench.analysis.tables.published import published_table
from actionbench.analysis.tables.results import RESULT_COLUMNS, results_table
from actionbench.analysis.tables.table4_transfer import table4, table4_runs, transfer_rows
from actionbench.analysis.tables.table5_aggregation import table5, table5_runs
from actionbench.analysis.tables.table6_tam_locations import table6, table6_runs
from actionbench.analysis.tables.table7_effects import (
    METRIC_LABELS,
    Table7Data,
    class_groups,
    contributions,
    table7,
    table7_data,
)
from actionbench.analysis.tables.table8_speed import ACCURACY_SUFFIX, table8, table8_rows
from actionbench.analysis.tables.table10_cost import MODEL_KEYS, table10, table10_models
from actionbench.spec import label as model_label

__all__ = [
    "ACCURACY_SUFFIX",
    "ARCH_ORDER",
    "DASH",
    "LEVELS",
    "METRIC_LABELS",
    "MODEL_KEYS",
    "RESULT_COLUMNS",
    "Table",
    "Table7Data",
    "arch_key",
    "backbone_key",
    "class_groups",
    "contributions",
    "fmt",
    "fmt_p",
    "model_label",
    "protocol_table",
    "published_table",
    "results_table",
    "table4",
    "table4_runs",
    "table5",
    "table5_runs",
    "table6",
    "table6_runs",
    "table7",
    "table7_data",
    "table8",
    "table8_rows",
    "table10",
    "table10_models",
    "transfer_rows",
]
