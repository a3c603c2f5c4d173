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
        mem_mb=lambda w: res("evaluate", "mem_mb", 8000),
        runtime=lambda w: res("evaluate", "runtime", 120),
        gpus=lambda w: res("evaluate", "gpus", 0),
        slurm_partition=lambda w: res("evaluate", "partition", None) or "",
        slurm_extra=lambda w: slurm_extra("evaluate"),
    log:
        f"logs/evaluate/{{dataset}}/{{model}}/f{{frames}}.log",
    benchmark:
        f"logs/benchmarks/evaluate/{{dataset}}/{{model}}/f{{frames}}.tsv"
    shell:
        "actionbench evaluate --params params.yaml --run {params.run} > {log} 2>&1"


rule evaluate_all:
    input:
        [f"{RUNS_DIR}/{rid}/eval/metrics.json" for rid in RUNS],
