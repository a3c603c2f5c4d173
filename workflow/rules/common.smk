# Helpers shared by the rule files: resources from params.yaml and run-id wildcards.
import functools

from actionbench.cluster.jobs import PLUGIN_RESOURCE_NAMES, Requests, kind_request
from actionbench.config import dataset_refs, lists_dir, run_protocol
from actionbench.fingerprints import report_fingerprint
from actionbench.identity import eval_identity, train_identity

DATASETS = dataset_refs(config)
RUN_WILDCARDS = dict(dataset=r"[A-Za-z0-9_.-]+", model=r"[a-z0-9_]+-[a-z0-9_-]+", frames=r"[0-9]+")


def job_resources(kind):
    """A rule kind's params.yaml resources under the names snakemake-executor-plugin-slurm
    reads (actionbench.cluster.jobs: gpu -> --gpus, mem_mb -> --mem, runtime -> -t, ...)."""
    return kind_request(config, kind).plugin_resources(launcher=False)


def job_threads(kind):
    return kind_request(config, kind).cpus


def run_resources(kind):
    """One run's train or evaluate request (merged per group/stage/model, `auto` sized), each
    plugin resource a function of the job's wildcards; a resource the request lacks is None,
    which Snakemake leaves out (a one-node job has no `mpi`, whose mere presence matters)."""
    return {name: _pick(kind, name) for name in PLUGIN_RESOURCE_NAMES}


def run_threads(kind):
    return lambda wildcards: REQUESTS.get(run_id(wildcards), kind).cpus


def _pick(kind, name):
    def pick(wildcards):
        return REQUESTS.get(run_id(wildcards), kind).plugin_resources(kind == "train").get(name)

    return pick


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


REQUESTS = Requests(config, RUNS, resolved)


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
