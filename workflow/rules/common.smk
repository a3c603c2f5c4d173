# Helpers shared by the rule files: resources from params.yaml and run-id wildcards.
import functools

from actionbench.config import dataset_refs, lists_dir, run_protocol
from actionbench.fingerprints import report_fingerprint
from actionbench.identity import eval_identity, train_identity

DATASETS = dataset_refs(config)
RUN_WILDCARDS = dict(dataset=r"[A-Za-z0-9_.-]+", model=r"[a-z0-9_]+-[a-z0-9_-]+", frames=r"[0-9]+")


def res(kind, key, default):
    """A resource of a rule kind from params.yaml `resources:`, falling back to `default:`."""
    table = config.get("resources", {})
    return table.get(kind, {}).get(key, table.get("default", {}).get(key, default))


def job_resources(kind, mem_mb=4000, runtime=60):
    """A rule kind's params.yaml resources under the names snakemake-executor-plugin-slurm reads.

    gpu -> sbatch/srun --gpus, slurm_account -> -A, slurm_partition -> -p (empty: the cluster's
    default), constraint -> -C, nodes -> --nodes, mem_mb -> --mem, runtime (minutes) -> -t; CPUs
    are the rule's `threads` (--cpus-per-task). The plugin ignores other names (`gpus` reaches only
    the job step's srun) and rejects flags it sets itself inside slurm_extra (docs/slurm.md).
    """
    out = {
        "mem_mb": res(kind, "mem_mb", mem_mb),
        "runtime": res(kind, "runtime", runtime),
        "gpu": res(kind, "gpus", 0),
        "nodes": res(kind, "nodes", 1),
        "slurm_partition": res(kind, "partition", None) or "",
        "slurm_account": res(kind, "account", None) or "",
    }
    if res(kind, "constraint", None):
        out["constraint"] = res(kind, "constraint", None)
    return out


def run_id(w):
    return f"{w.dataset}/{w.model}/f{w.frames}"


def run_dir(w):
    return f"{RUNS_DIR}/{run_id(w)}"


def resolved(rid):
    """A run's resolved config (train and evaluate jobs of one run share one resolution)."""
    return _resolved(rid)


@functools.lru_cache(maxsize=None)
def _resolved(rid):
    return run_protocol(config, rid, RUNS)


def train_fp(w):
    """The run's identity (actionbench.identity): its training settings (chained through the run
    it starts from), the content of its lists and the digest of its initial weights. Evaluation,
    tracking and speed settings are left out (fingerprints.TRAIN_IGNORED): changing them must not
    re-train. Read again right before the job runs, so what Snakemake records is what the job
    trained from; the trainer's resume check compares the same identity."""
    return train_identity(resolved(run_id(w)))["fingerprint"]


def eval_fp(w):
    """What an evaluate job reads: evaluation settings and input pipeline, the validation list's
    content and the digest of the final.pt it scores (actionbench.identity.eval_identity)."""
    return eval_identity(resolved(run_id(w)))["fingerprint"]


def job_message(kind):
    """One console line per job (rule, run id, log); ACTIONBENCH_VERBOSE=1 shows Snakemake's full
    job block (inputs, outputs, reason) instead."""
    if VERBOSE:
        return None
    return kind + " {wildcards.dataset}/{wildcards.model}/f{wildcards.frames}  (log: {log})"


def list_files(name):
    d = lists_dir(name)
    return {"train": f"{d}/train.csv", "val": f"{d}/val.csv", "classes": f"{d}/classes.csv"}
