# Progressive training: f8 starts from ImageNet (or scratch), f16 from f8's final.pt, f32 from
# f16, f64 from f32 — each an edge of the DAG, so changing f8's protocol re-runs its descendants.
from actionbench.planning import train_inputs

rule train:
    """Train one run of the grid (resuming from its last checkpoint of the same identity);
    re-runs when its identity changes (training settings, data, initial weights), not when
    evaluation or tracking settings do."""
    input:
        # the lists it trains on (not the validation list) and its initial weights
        unpack(lambda w: train_inputs(resolved(run_id(w)))),
    output:
        final=f"{RUNS_DIR}/{{dataset}}/{{model}}/f{{frames}}/final.pt",
        metrics=f"{RUNS_DIR}/{{dataset}}/{{model}}/f{{frames}}/train_metrics.json",
        history=f"{RUNS_DIR}/{{dataset}}/{{model}}/f{{frames}}/history.csv",
    wildcard_constraints:
        **RUN_WILDCARDS,
    params:
        run=run_id,
        fingerprint=train_fp,
    message:
        job_message("train")
    threads: run_threads("train")
    resources:
        **run_resources("train"),
    log:
        f"logs/train/{{dataset}}/{{model}}/f{{frames}}.log",
    benchmark:
        f"logs/benchmarks/train/{{dataset}}/{{model}}/f{{frames}}.tsv"
    # One process; or torchrun, one process per GPU (one node); or, with nodes x tasks_per_node
    # > 1, srun starting one torchrun agent per node (actionbench.engine.launch; docs/slurm.md)
    shell:
        "actionbench launch --agents {resources.agents} --nodes {resources.nodes} "
        "--procs-per-agent {resources.procs_per_agent} "
        "--gpus-per-agent {resources.gpus_per_agent} --cpus-per-agent {threads} "
        "-- actionbench train --params {PARAMS_FILE} --run {params.run} > {log} 2>&1"


rule train_all:
    """Every run of the enabled grid trained (no evaluation, no report)."""
    input:
        [f"{RUNS_DIR}/{rid}/final.pt" for rid in RUNS],
