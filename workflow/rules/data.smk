# Data stage: (synthetic render) -> annotation index -> ffmpeg frame extraction (sharded) or a
# one-time re-encode -> split lists -> mini dataset. Every step is an `actionbench` command.
# Paths come from actionbench.config's folder helpers; flags, input functions and the enabled
# filter from actionbench.planning (tested there): the rules only wire them together.
from actionbench.config import frames_root, interim_dir, lists_dir, videos_root
from actionbench.planning import (
    annotation_flags,
    data_targets,
    data_wildcards,
    extract_options,
    fps_flag,
    mini_flags,
    mini_source,
    num_shards,
    reencode_options,
    shard_failure_tables,
    shard_tables,
    synth_outputs,
    synth_pattern,
    synth_settings,
)


wildcard_constraints:
    **data_wildcards(config),


INTERIM = str(interim_dir("{base}"))
FRAMES = str(frames_root("{base}"))
VIDEOS = str(videos_root("{base}"))
LISTS = str(lists_dir("{base}"))
MINI_LISTS = str(lists_dir("{mini}"))


rule synth:
    """Render the videos of one synthetic dataset (actionbench synth) into its raw_dir (a folder
    named after it, beside the other synthetic sets: checked before planning)."""
    output:
        annotations=synth_pattern(config, "annotations.csv"),
        classes=synth_pattern(config, "classes.csv"),
    params:
        dataset="{synth}",
        synth=lambda w: synth_settings(config, w.synth),
    message:
        quiet("synth {wildcards.synth}  (log: {log})")
    log:
        "logs/synth/{synth}.log",
    benchmark:
        "logs/benchmarks/synth/{synth}.tsv"
    threads: job_threads("extract")
    resources:
        **job_resources("extract"),
    shell:
        "actionbench synth --params {PARAMS_FILE} --dataset {params.dataset} "
        "--workers {threads} > {log} 2>&1"


rule index:
    """Index one dataset's raw videos and annotations into one table (unreadable rows listed)."""
    input:
        lambda w: synth_outputs(config, w.base),
    output:
        index=f"{INTERIM}/index.csv",
        failures=f"{INTERIM}/index_failures.csv",
    params:
        format=lambda w: config["datasets"][w.base]["format"],
        raw_dir=lambda w: config["datasets"][w.base]["raw_dir"],
        annotations=lambda w: annotation_flags(config, w.base),
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


rule extract:
    """Decode one shard of a dataset's videos into JPEG frames with ffmpeg."""
    input:
        index=f"{INTERIM}/index.csv",
    output:
        extracted=f"{INTERIM}/extract/shard{{shard}}.csv",
        failures=f"{INTERIM}/extract/shard{{shard}}_failures.csv",
    params:
        frames_root=FRAMES,
        short_side=lambda w: extract_options(config, w.base)["short_side"],
        quality=lambda w: extract_options(config, w.base)["quality"],
        fps=lambda w: extract_options(config, w.base)["fps"],
        shards=lambda w: num_shards(config, w.base),
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


rule reencode:
    """storage: video — re-encode one shard of a dataset's videos once (a keyframe every `gop`
    frames, extraction's short side and fps) instead of extracting frames; its tables have
    extraction's columns, so `lists` reads either."""
    input:
        index=f"{INTERIM}/index.csv",
    output:
        reencoded=f"{INTERIM}/reencode/shard{{shard}}.csv",
        failures=f"{INTERIM}/reencode/shard{{shard}}_failures.csv",
    params:
        videos_root=VIDEOS,
        opts=lambda w: reencode_options(config, w.base),
        fps=lambda w: fps_flag(reencode_options(config, w.base)["fps"]),
        shards=lambda w: num_shards(config, w.base),
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


rule lists:
    """Train/val/classes lists of one dataset from its index and extracted frames (or
    re-encoded videos)."""
    input:
        index=f"{INTERIM}/index.csv",
        extracted=lambda w: shard_tables(config, w.base),
        failures=lambda w: shard_failure_tables(config, w.base),
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
        "--params {PARAMS_FILE} "
        f"--out-dir {lists_dir('{wildcards.base}')} 2>&1 | tee {{log}}"


rule mini:
    """The mini version of a dataset (the paper's class subsets or a seeded half)."""
    input:
        train=lambda w: list_files(mini_source(config, w.mini))["train"],
        val=lambda w: list_files(mini_source(config, w.mini))["val"],
        classes=lambda w: list_files(mini_source(config, w.mini))["classes"],
    output:
        train=f"{MINI_LISTS}/train.csv",
        val=f"{MINI_LISTS}/val.csv",
        classes=f"{MINI_LISTS}/classes.csv",
    params:
        lists_dir=lambda w: str(lists_dir(mini_source(config, w.mini))),
        flags=lambda w: mini_flags(config, w.mini),
    message:
        quiet("mini {wildcards.mini}  (log: {log})")
    resources:
        **job_resources("default"),
    log:
        "logs/mini/{mini}.log",
    shell:
        "actionbench mini --lists-dir {params.lists_dir} --params {PARAMS_FILE} "
        f"--out-dir {lists_dir('{wildcards.mini}')} "
        "{params.flags} > {log} 2>&1"


rule data_all:
    """The lists of every dataset an enabled experiment group trains on (DVC's `data` stage)."""
    input:
        data_targets(config),
