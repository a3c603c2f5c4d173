# Analysis and report: reads saved evaluations only; never re-runs training.

EVAL_METRICS = [f"{RUNS_DIR}/{rid}/eval/metrics.json" for rid in RUNS]
EVAL_PREDICTIONS = [f"{RUNS_DIR}/{rid}/eval/predictions.csv" for rid in RUNS]
TRAIN_HISTORIES = [f"{RUNS_DIR}/{rid}/history.csv" for rid in RUNS]


rule report:
    input:
        metrics=EVAL_METRICS,
        predictions=EVAL_PREDICTIONS,
        histories=TRAIN_HISTORIES,
    output:
        html=f"{REPORTS_DIR}/index.html",
        markdown=f"{REPORTS_DIR}/report.md",
        metrics=f"{REPORTS_DIR}/metrics.json",
        table=f"{REPORTS_DIR}/results.csv",
    params:
        runs=lambda w: json.dumps(sorted(RUNS)),
    resources:
        **job_resources("report"),
    log:
        "logs/report.log",
    shell:
        "actionbench report --params params.yaml --out-dir {REPORTS_DIR} > {log} 2>&1"
