# Helpers the rule files share (resources from params.yaml, run-id wildcards, console lines).
# Functions live here or in actionbench.planning, never beside rules (`snakemake --lint`).
import functools

from actionbench.cluster.jobs import PLUGIN_RESOURCE_NAMES, Requests, kind_request
from actionbench.config import run_protocol
from actionbench.fingerprints import eval_fingerprint
from actionbench.identity import planned_fingerprint
from actionbench.planning import list_files

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
    """The part of the run's identity known before any job runs (actionbench.identity.
    planned_fingerprint): its training settings, chained through the run it starts from, and the
    digest of an ImageNet file. Its lists and a source run's final.pt are input files (below),
    checksummed by Snakemake; the trainer's resume check compares the whole identity.
    Evaluation, tracking and speed settings are left out (fingerprints.TRAIN_IGNORED)."""
    return planned_fingerprint(resolved(run_id(w)))


def eval_fp(w):
    """Evaluation settings and input pipeline; the lists and final.pt it reads are inputs."""
    return eval_fingerprint(resolved(run_id(w)))


def quiet(text):
    """One console line per job unless ACTIONBENCH_VERBOSE=1 (then Snakemake's full job block:
    inputs, outputs, reason)."""
    return None if VERBOSE else text


def job_message(kind):
    """The one console line of a run's job: rule, run id, log."""
    return quiet(f"{kind} {{wildcards.dataset}}/{{wildcards.model}}/f{{wildcards.frames}}  (log: {{log}})")


# Every output of every run's jobs. The all and evaluate_all targets ask for them all, not only for
# the evaluations the report reads: an output that is gone (a train job failed or was
# interrupted after an evaluation of its earlier model) is then made again, instead of being an
# intermediate file Snakemake lets be while the files after it exist. So Snakemake and
# `actionbench status` agree on what is missing.
RUN_OUTPUTS = [
    f"{RUNS_DIR}/{rid}/{name}"
    for rid in RUNS
    for name in ("final.pt", "train_metrics.json", "history.csv", "eval/metrics.json")
]
