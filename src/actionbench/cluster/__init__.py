"""What each job of the grid asks a cluster for, how a multi-node job starts, what the grid costs.

* :mod:`.entries` merges params.yaml's ``resources:`` for one run (rule kind, group, overrides);
* :mod:`.sizing` turns ``auto`` values into numbers from the model's measured or estimated cost;
* :mod:`.jobs` is the one door: a run's :class:`~.jobs.JobRequest` and the resource names
  snakemake-executor-plugin-slurm reads (the Snakefile, ``grid --show`` and ``plan`` all use it);
* :mod:`.launch` starts one torchrun agent per node inside a multi-node SLURM job;
* :mod:`.plan` is ``actionbench plan``: GPU-hours, wall time and disk of the enabled grid.

No torch at import time: Snakemake plans hundreds of jobs through this package.
"""
