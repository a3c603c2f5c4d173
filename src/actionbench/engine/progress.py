"""The engine's progress reporting is the package-wide one (actionbench/progress.py): data
(synthetic rendering, frame extraction), profiling and the engine share one behaviour."""

from actionbench.progress import Progress, use_bar

__all__ = ["Progress", "use_bar"]
