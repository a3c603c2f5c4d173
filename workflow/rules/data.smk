# Data stage: (synthetic render) -> annotation index -> ffmpeg frame extraction (sharded)
# -> split lists -> mini dataset. Every step is an `actionbench` command.
import json
import re

from actionbench.config import frames_root, interim_dir, reencode_settings

BASES = [n for n, ref in DATASETS.items() if not ref.is_mini]
MINIS = [n for n, ref in DATASETS.items() if ref.is_mini]


def _alternation(names):
    return "|".join(re.escape(n) for n in names) if names else "$^"


wildcard_constraints:
    base=_alternation(BASES),
    mini=_alternation(MINIS),
    shard=r"[0-9]+",


def ds_cfg(base):
    return config["datasets"][base]


# Path patterns from config.py's helpers (interim, frames and lists folders). The reencode rule
# and prepared_tables() below still write their data/interim and data/videos paths out.
INTERIM = str(interim_dir("{base}"))
FRAMES = str(frames_root("{base}"))
LISTS = str(lists_dir("{base}"))
MINI_LISTS = str(lists_dir("{mini}"))


def quiet(text):
    """One console line per job unless ACTIONBENCH_VERBOSE=1 (then Snakemake's full job block)."""
    return None if VERBOSE else text


for _ds, _cfg in config["datasets"].items():
    if _cfg["format"] != "synthetic":
        continue

    rule:
        name:
            f"synth_{_ds}"
        """Render the synthetic videos of one synthetic dataset (actionbench synth)."""
        output:
            annotations=f"{_cfg['raw_dir']}/annotations.csv",
            classes=f"{_cfg['raw_dir']}/classes.csv",
        params:
            dataset=_ds,
            synth=json.dumps(_cfg["synth"], sort_keys=True),
        message:
            quiet(f"synth {_ds}  (log: logs/synth/{_ds}.log)")
        log:
            f"logs/synth/{_ds}.log",
        benchmark:
            f"logs/benchmarks/synth/{_ds}.tsv"
        threads: job_threads("extract")
        resources:
            **job_resources("extract"),
        shell:
            "actionbench synth --params {PARAMS_FILE} --dataset {params.dataset} "
            "--workers {threads} > {log} 2>&1"


def index_inputs(w):
    cfg = ds_cfg(w.base)
    if cfg["format"] == "synthetic":
        return [f"{cfg['raw_dir']}/annotations.csv", f"{cfg['raw_dir']}/classes.csv"]
    return []


def annotation_flags(w):
    items = ds_cfg(w.base).get("annotations", {}) or {}
    if not items:
        return ""
    return "--annotations " + " ".join(f"'{k}={v}'" for k, v in sorted(items.items()))


rule index:
    """Index one dataset's raw videos and annotations into one table (unreadable rows listed)."""
    input:
        index_inputs,
    output:
        index=f"{INTERIM}/index.csv",
        failures=f"{INTERIM}/index_failures.csv",
    params:
        format=lambda w: ds_cfg(w.base)["format"],
        raw_dir=lambda w: ds_cfg(w.base)["raw_dir"],
        annotations=annotation_flags,
    message:
        quiet("index {wildcards.base}  (log: {log})")
    resources:
        **job_resources("default"),
    log:
        "logs/index/{base}.log",
    benchmark:
        "logs/benchmarks/index/{base}.tsv"
    shell:
        "actionbench index --format {params.format} --raw-dir {params.raw_dir} "
        "{params.annotations} --out {output.index} --failures {output.failures} > {log} 2>&1"


def num_shards(base):
    return ds_cfg(base).get("extract", {}).get("shards", 1)


def extract_opt(base, key, default):
    return ds_cfg(base).get("extract", {}).get(key, default)


rule extract:
    """Decode one shard of a dataset's videos into JPEG frames with ffmpeg."""
    input:
        index=f"{INTERIM}/index.csv",
    output:
        extracted=f"{INTERIM}/extract/shard{{shard}}.csv",
        failures=f"{INTERIM}/extract/shard{{shard}}_failures.csv",
    params:
        frames_root=FRAMES,
        short_side=lambda w: extract_opt(w.base, "short_side", 256),
        quality=lambda w: extract_opt(w.base, "quality", 2),
        fps=lambda w: (
            f"--fps {extract_opt(w.base, 'fps', None)}" if extract_opt(w.base, "fps", None) else ""
        ),
        shards=lambda w: num_shards(w.base),
    message:
        quiet("extract {wildcards.base} shard {wildcards.shard}  (log: {log})")
    threads: job_threads("extract")
    resources:
        **job_resources("extract"),
    log:
        "logs/extract/{base}/shard{shard}.log",
    benchmark:
        "logs/benchmarks/extract/{base}/shard{shard}.tsv"
    shell:
        "actionbench extract --index {input.index} --frames-root {params.frames_root} "
        "--short-side {params.short_side} --quality {params.quality} {params.fps} "
        "--workers {threads} --shard {wildcards.shard} --num-shards {params.shards} "
        "--out {output.extracted} --failures {output.failures} > {log} 2>&1"


def storage_of(base):
    return ds_cfg(base).get("storage", "frames")


# storage: video — a one-time re-encode (short GOP, extraction's short side) replaces
# extraction; its tables have extraction's columns, so `lists` reads either.
rule reencode:
    input:
        index="data/interim/{base}/index.csv",
    output:
        reencoded="data/interim/{base}/reencode/shard{shard}.csv",
        failures="data/interim/{base}/reencode/shard{shard}_failures.csv",
    params:
        videos_root="data/videos/{base}",
        opts=lambda w: reencode_settings(ds_cfg(w.base)),
        fps=lambda w: (
            f"--fps {reencode_settings(ds_cfg(w.base))['fps']}"
            if reencode_settings(ds_cfg(w.base))["fps"]
            else ""
        ),
        shards=lambda w: num_shards(w.base),
    threads: job_threads("extract")
    resources:
        **job_resources("extract"),
    log:
        "logs/reencode/{base}/shard{shard}.log",
    benchmark:
        "logs/benchmarks/reencode/{base}/shard{shard}.tsv"
    shell:
        "actionbench reencode --index {input.index} --videos-root {params.videos_root} "
        "--short-side {params.opts[short_side]} --gop {params.opts[gop]} "
        "--crf {params.opts[crf]} {params.fps} --workers {threads} --shard {wildcards.shard} "
        "--num-shards {params.shards} --out {output.reencoded} --failures {output.failures} "
        "--no-progress > {log} 2>&1"


def prepared_tables(base):
    """Extraction tables (storage: frames) or re-encode tables (storage: video), one per shard."""
    step = "reencode" if storage_of(base) == "video" else "extract"
    return expand(f"data/interim/{base}/{step}/shard{{shard}}.csv", shard=range(num_shards(base)))


rule lists:
    """Train/val/classes lists of one dataset from its index and extracted frames."""
    input:
        index=f"{INTERIM}/index.csv",
        extracted=lambda w: prepared_tables(w.base),
        failures=lambda w: [t[: -len(".csv")] + "_failures.csv" for t in prepared_tables(w.base)],
        index_failures=f"{INTERIM}/index_failures.csv",
    output:
        train=f"{LISTS}/train.csv",
        val=f"{LISTS}/val.csv",
        classes=f"{LISTS}/classes.csv",
    message:
        quiet("lists {wildcards.base}  (log: {log})")
    resources:
        **job_resources("default"),
    log:
        "logs/lists/{base}.log",
    shell:
        # The log is also shown on the console: it ends with the dataset's one-line summary.
        "actionbench lists --index {input.index} --extracted {input.extracted} "
        "--failures {input.failures} --index-failures {input.index_failures} --dataset {wildcards.base} "
        f"--out-dir {lists_dir('{wildcards.base}')} 2>&1 | tee {{log}}"


def mini_cfg(mini):
    base = DATASETS[mini].base
    return base, ds_cfg(base)["mini"]


def mini_flags(w):
    _, m = mini_cfg(w.mini)
    flags = [f"--mode {m['mode']}", f"--seed {m.get('seed', 0)}"]
    for key, flag in (
        ("class_list", "--class-list"),
        ("unit_column", "--unit-column"),
        ("strata_column", "--strata-column"),
    ):
        if m.get(key):
            flags.append(f"{flag} '{m[key]}'")
    return " ".join(flags)


rule mini:
    """The mini version of a dataset (the paper's class subsets or a seeded half)."""
    input:
        train=lambda w: list_files(mini_cfg(w.mini)[0])["train"],
        val=lambda w: list_files(mini_cfg(w.mini)[0])["val"],
        classes=lambda w: list_files(mini_cfg(w.mini)[0])["classes"],
    output:
        train=f"{MINI_LISTS}/train.csv",
        val=f"{MINI_LISTS}/val.csv",
        classes=f"{MINI_LISTS}/classes.csv",
    params:
        lists_dir=lambda w: str(lists_dir(mini_cfg(w.mini)[0])),
        flags=mini_flags,
    message:
        quiet("mini {wildcards.mini}  (log: {log})")
    resources:
        **job_resources("default"),
    log:
        "logs/mini/{mini}.log",
    shell:
        "actionbench mini --lists-dir {params.lists_dir} "
        f"--out-dir {lists_dir('{wildcards.mini}')} "
        "{params.flags} > {log} 2>&1"


rule data_all:
    """The lists of every dataset an enabled experiment group trains on (DVC's `data` stage)."""
    input:
        [
            path
            for name in sorted({g["dataset"] for g in config["experiments"].values() if g.get("enabled", True)})
            for path in list_files(name).values()
        ],
