# Analysis and report: reads saved evaluations only; never re-runs training.
from actionbench.planning import report_fingerprint

EVAL_METRICS = [f"{RUNS_DIR}/{rid}/eval/metrics.json" for rid in RUNS]
EVAL_PREDICTIONS = [f"{RUNS_DIR}/{rid}/eval/predictions.csv" for rid in RUNS]
TRAIN_HISTORIES = [f"{RUNS_DIR}/{rid}/history.csv" for rid in RUNS]


rule report:
    """The study's report (HTML, Markdown, tables, figures) from the saved evaluations; its
    figures and tables also appear in `snakemake --report`."""
    input:
        metrics=EVAL_METRICS,
        predictions=EVAL_PREDICTIONS,
        histories=TRAIN_HISTORIES,
    output:
        # only this rule writes it: a report built after a failure (onerror) removes it, so
        # it never passes for the finished study
        complete=f"{REPORTS_DIR}/complete.json",
        html=f"{REPORTS_DIR}/index.html",
        markdown=f"{REPORTS_DIR}/report.md",
        metrics=f"{REPORTS_DIR}/metrics.json",
        table=report(
            f"{REPORTS_DIR}/results.csv", category="Results", caption="../report/results.rst"
        ),
        figures=report(
            directory(f"{REPORTS_DIR}/figures"),
            patterns=["{name}.png"],
            category="Figures",
            caption="../report/figures.rst",
        ),
        tables=report(
            directory(f"{REPORTS_DIR}/tables"),
            patterns=["{name}.csv"],
            category="Tables",
            caption="../report/tables.rst",
        ),
    params:
        fingerprint=lambda w: report_fingerprint(config, list(RUNS)),
    message:
        None if VERBOSE else "report  (log: {log})"
    resources:
        **job_resources("report"),
    log:
        "logs/report.log",
    shell:
        "actionbench report --params {PARAMS_FILE} --out-dir {REPORTS_DIR} --mark-complete "
        "> {log} 2>&1"
