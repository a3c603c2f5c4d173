"""Errors a user can act on: each names the file, row or key at fault and what was expected.

The CLI turns these into one clear log line and exit status 2 instead of a traceback.
"""


class ActionbenchError(Exception):
    """Base class of every user-facing error."""


class ConfigError(ActionbenchError):
    """params.yaml (or a value derived from it) is invalid; the message names the key."""


class DataError(ActionbenchError):
    """An input file (video, annotation, list) is missing or malformed; names file and row."""


class ModelError(ActionbenchError):
    """An architecture/backbone combination or a checkpoint cannot be used."""


class TrainingError(ActionbenchError):
    """Training cannot continue (e.g. NaN loss); the last good checkpoint is left intact."""
