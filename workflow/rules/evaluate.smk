# Clip-level and video-level (multi-clip x crops) evaluation of each trained run.


rule evaluate:
    input:
        final=f"{RUNS_DIR}/{{dataset}}/{{model}}/f{{frames}}/final.pt",
        val=lambda w: list_files(w.dataset)["val"],
    output:
        metrics=f"{RUNS_DIR}/{{dataset}}/{{model}}/f{{frames}}/eval/metrics.json",
        predictions=f"{RUNS_DIR}/{{dataset}}/{{model}}/f{{frames}}/eval/predictions.csv",
    wildcard_constraints:
        **RUN_WILDCARDS,
    params:
        run=run_id,
        protocol=protocol_json,
    threads: lambda w: res("evaluate", "cpus", 1)
    resources:
        **job_resources("evaluate", mem_mb=8000, runtime=120),
    log:
        f"logs/evaluate/{{dataset}}/{{model}}/f{{frames}}.log",
    benchmark:
        f"logs/benchmarks/evaluate/{{dataset}}/{{model}}/f{{frames}}.tsv"
    shell:
        "actionbench evaluate --params params.yaml --run {params.run} > {log} 2>&1"


rule evaluate_all:
    input:
        [f"{RUNS_DIR}/{rid}/eval/metrics.json" for rid in RUNS],
