# Helpers shared by the rule files: resources from params.yaml and run-id wildcards.
import json

from actionbench.config import dataset_refs, lists_dir, run_protocol

DATASETS = dataset_refs(config)
RUN_WILDCARDS = dict(dataset=r"[A-Za-z0-9_.-]+", model=r"[a-z0-9_]+-[a-z0-9_-]+", frames=r"[0-9]+")


def res(kind, key, default):
    """A resource of a rule kind from params.yaml `resources:`, falling back to `default:`."""
    table = config.get("resources", {})
    return table.get(kind, {}).get(key, table.get("default", {}).get(key, default))


def slurm_extra(kind):
    """Extra sbatch flags (partition/account/constraint) for the SLURM executor, if set."""
    flags = []
    for key, flag in (("account", "--account"), ("constraint", "--constraint")):
        value = res(kind, key, None)
        if value:
            flags.append(f"{flag}={value}")
    return " ".join(flags)


def run_id(w):
    return f"{w.dataset}/{w.model}/f{w.frames}"


def run_dir(w):
    return f"{RUNS_DIR}/{run_id(w)}"


def protocol_json(w):
    """The resolved protocol of a run: a change re-runs that job (and, via final.pt, its descendants)."""
    return json.dumps(run_protocol(config, run_id(w), RUNS), sort_keys=True)


def list_files(name):
    d = lists_dir(name)
    return {"train": f"{d}/train.csv", "val": f"{d}/val.csv", "classes": f"{d}/classes.csv"}
