# Data stage: (synthetic render) -> annotation index -> ffmpeg frame extraction (sharded)
# -> split lists -> mini dataset. Every step is an `actionbench` command.
import re

from actionbench.config import reencode_settings

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


for _ds, _cfg in config["datasets"].items():
    if _cfg["format"] != "synthetic":
        continue

    rule:
        name:
            f"synth_{_ds}"
        output:
            annotations=f"{_cfg['raw_dir']}/annotations.csv",
            classes=f"{_cfg['raw_dir']}/classes.csv",
        params:
            dataset=_ds,
            synth=json.dumps(_cfg["synth"], sort_keys=True),
        log:
            f"logs/synth/{_ds}.log",
        benchmark:
            f"logs/benchmarks/synth/{_ds}.tsv"
        threads: res("extract", "cpus", 1)
        resources:
            **job_resources("extract", runtime=120),
        shell:
            "actionbench synth --params params.yaml --dataset {params.dataset} "
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
    input:
        index_inputs,
    output:
        index="data/interim/{base}/index.csv",
        failures="data/interim/{base}/index_failures.csv",
    params:
        format=lambda w: ds_cfg(w.base)["format"],
        raw_dir=lambda w: ds_cfg(w.base)["raw_dir"],
        annotations=annotation_flags,
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
    input:
        index="data/interim/{base}/index.csv",
    output:
        extracted="data/interim/{base}/extract/shard{shard}.csv",
        failures="data/interim/{base}/extract/shard{shard}_failures.csv",
    params:
        frames_root="data/frames/{base}",
        short_side=lambda w: extract_opt(w.base, "short_side", 256),
        quality=lambda w: extract_opt(w.base, "quality", 2),
        fps=lambda w: (
            f"--fps {extract_opt(w.base, 'fps', None)}" if extract_opt(w.base, "fps", None) else ""
        ),
        shards=lambda w: num_shards(w.base),
    threads: res("extract", "cpus", 1)
    resources:
        **job_resources("extract", runtime=120),
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
    threads: res("extract", "cpus", 1)
    resources:
        **job_resources("extract", runtime=120),
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
    input:
        index="data/interim/{base}/index.csv",
        extracted=lambda w: prepared_tables(w.base),
    output:
        train="data/lists/{base}/train.csv",
        val="data/lists/{base}/val.csv",
        classes="data/lists/{base}/classes.csv",
    resources:
        **job_resources("default"),
    log:
        "logs/lists/{base}.log",
    shell:
        "actionbench lists --index {input.index} --extracted {input.extracted} "
        "--out-dir data/lists/{wildcards.base} > {log} 2>&1"


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
    input:
        train=lambda w: list_files(mini_cfg(w.mini)[0])["train"],
        val=lambda w: list_files(mini_cfg(w.mini)[0])["val"],
        classes=lambda w: list_files(mini_cfg(w.mini)[0])["classes"],
    output:
        train="data/lists/{mini}/train.csv",
        val="data/lists/{mini}/val.csv",
        classes="data/lists/{mini}/classes.csv",
    params:
        lists_dir=lambda w: f"data/lists/{mini_cfg(w.mini)[0]}",
        flags=mini_flags,
    resources:
        **job_resources("default"),
    log:
        "logs/mini/{mini}.log",
    shell:
        "actionbench mini --lists-dir {params.lists_dir} --out-dir data/lists/{wildcards.mini} "
        "{params.flags} > {log} 2>&1"
