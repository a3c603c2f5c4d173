# Clip-level and video-level (multi-clip x crops) evaluation of each trained run.


rule evaluate:
    """Clip- and video-level (multi-clip x crops) evaluation of one trained run; re-runs when the
    evaluation settings or the checkpoint change."""
    input:
        final=f"{RUNS_DIR}/{{dataset}}/{{model}}/f{{frames}}/final.pt",
        val=lambda w: list_files(w.dataset)["val"],
        classes=lambda w: list_files(w.dataset)["classes"],
    output:
        metrics=f"{RUNS_DIR}/{{dataset}}/{{model}}/f{{frames}}/eval/metrics.json",
        predictions=f"{RUNS_DIR}/{{dataset}}/{{model}}/f{{frames}}/eval/predictions.csv",
    wildcard_constraints:
        **RUN_WILDCARDS,
    params:
        run=run_id,
        fingerprint=eval_fp,
    message:
        job_message("evaluate")
    threads: run_threads("evaluate")
    # Short jobs share an allocation: the slurm profiles put this rule in group `evaluate` and
    # submit N evaluations as one SLURM job, one slot each (docs/slurm.md, "Evaluations share
    # allocations"); locally the slot is unconstrained.
    resources:
        **run_resources("evaluate"),
        evaluate_slots=1,
    log:
        f"logs/evaluate/{{dataset}}/{{model}}/f{{frames}}.log",
    benchmark:
        f"logs/benchmarks/evaluate/{{dataset}}/{{model}}/f{{frames}}.tsv"
    shell:
        "actionbench evaluate --params {PARAMS_FILE} --run {params.run} > {log} 2>&1"


rule evaluate_all:
    """Every run of the enabled grid trained and evaluated (no report)."""
    input:
        RUN_OUTPUTS,
