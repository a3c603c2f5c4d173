"""The study's vocabulary, written once: what the models and runs are called and made of.

Backbones, architectures, TAM locations, frame stages, samplings, display labels, and two
frozen values built from them: :class:`ModelSpec` (what ``models.build_model`` and every
registered constructor take) and :class:`RunSpec` (one cell of the experiment grid, with its
``run_id``). The registry, the config, the engine's factory and the analysis import these
names instead of spelling them again; ``tests/test_spec.py`` proves the params schema's enums
and the model registry list the same values.

This module imports nothing heavy (no torch), so the config, Snakemake and the analysis can use
it without loading the model zoo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import PurePosixPath

from actionbench import defaults
from actionbench.errors import ConfigError

# --------------------------------------------------------------------------- vocabulary

BACKBONES: tuple[str, ...] = ("inceptionv1", "resnet18", "resnet50", "resnet101")
# Registry order (the order `actionbench models` and error messages list them in).
ARCHS: tuple[str, ...] = ("tsn", "tam", "tsm", "tconv", "nln", "i3d", "s3d", "i3d_se", "slowfast")
TAM_LOCATIONS: tuple[str, ...] = ("all", "top_half", "bottom_half", "uniform_half")
FRAME_STAGES: tuple[int, ...] = (8, 16, 32, 64)
SAMPLINGS: tuple[str, ...] = ("uniform", "dense")
INFLATION_MODES: tuple[str, ...] = ("copy", "mean")
LAYOUTS: tuple[str, ...] = ("reference", "paper")
# The values a run id leaves out: an experiment group's defaults (actionbench.defaults.GROUP).
DEFAULT_TEMPORAL_POOLING, DEFAULT_SAMPLING, DEFAULT_TAM_LOCATIONS, DEFAULT_LAYOUT = (
    defaults.GROUP[key][0] for key in ("temporal_pooling", "sampling", "tam_locations", "layout")
)

# ResNet backbones and their depth (the constructors' ``depth``).
RESNET_DEPTHS: dict[str, int] = {"resnet18": 18, "resnet50": 50, "resnet101": 101}
# Residual blocks per ResNet (the slots a TAM can occupy; Table 6's halves hold n // 2).
RESNET_BLOCKS: dict[str, int] = {"resnet18": 8, "resnet50": 16, "resnet101": 33}

ARCH_LABELS: dict[str, str] = {
    "tsn": "None (TSN)",
    "i3d": "I3D",
    "s3d": "S3D",
    "tconv": "Conv.",
    "tam": "TAM",
    "tsm": "TSM",
    "nln": "NLN",
    "i3d_se": "I3D-SE",
    "slowfast": "SlowFast",
}
BACKBONE_LABELS: dict[str, str] = {
    "inceptionv1": "InceptionV1",
    "resnet18": "ResNet18",
    "resnet50": "ResNet50",
    "resnet101": "ResNet101",
}
LOCATION_LABELS: dict[str, str] = {
    "all": "All",
    "top_half": "Top-half",
    "bottom_half": "Bottom-half",
    "uniform_half": "Uniform-half",
}

_RUN_ID_RE = re.compile(
    r"^(?P<dataset>[A-Za-z0-9_.-]+)/"
    r"(?P<arch>[a-z0-9_]+)-(?P<backbone>" + "|".join(BACKBONES) + r")"
    r"(?P<tp>-tp)?(?P<dense>-dense)?"
    r"(?:-(?P<tamloc>" + "|".join(TAM_LOCATIONS[1:]) + r"))?"
    r"(?P<paper>-paper)?"
    r"/f(?P<frames>[0-9]+)$"
)
RUN_ID_FORMAT = "<dataset>/<arch>-<backbone>[-tp][-dense][-<tam_locations>][-paper]/f<frames>"


# --------------------------------------------------------------------------- names


def model_name(
    arch: str,
    backbone: str,
    temporal_pooling: bool = DEFAULT_TEMPORAL_POOLING,
    *,
    sampling: str = DEFAULT_SAMPLING,
    tam_locations: str = DEFAULT_TAM_LOCATIONS,
    layout: str = DEFAULT_LAYOUT,
) -> str:
    """The middle part of a run id, ``arch-backbone[-tp][-dense][-<locations>][-paper]``.

    Defaults add nothing, so ``tam-resnet50-tp`` is both the paper's model name and the run-id
    segment of its default run.
    """
    name = f"{arch}-{backbone}"
    if temporal_pooling:
        name += "-tp"
    for value, default in (
        (sampling, DEFAULT_SAMPLING),
        (tam_locations, DEFAULT_TAM_LOCATIONS),
        (layout, DEFAULT_LAYOUT),
    ):
        if value != default:
            name += f"-{value}"
    return name


def label(
    arch: str,
    backbone: str,
    temporal_pooling: bool = DEFAULT_TEMPORAL_POOLING,
    sampling: str = DEFAULT_SAMPLING,
    tam_locations: str | None = DEFAULT_TAM_LOCATIONS,
) -> str:
    """The paper's display name, e.g. ``TAM-ResNet50-tp (dense) (Top-half)``; TSN for none."""
    name = ARCH_LABELS.get(arch, arch).replace("None (TSN)", "TSN")
    name += f"-{BACKBONE_LABELS.get(backbone, backbone)}"
    if temporal_pooling:
        name += "-tp"
    if sampling == "dense":
        name += " (dense)"
    if tam_locations not in (None, DEFAULT_TAM_LOCATIONS):
        name += f" ({LOCATION_LABELS.get(tam_locations, tam_locations)})"
    return name


def previous_stage(frames: int) -> int:
    """The frame count progressive training initialises ``frames`` from (16 -> 8, ...)."""
    if frames not in FRAME_STAGES:
        raise ConfigError(f"f{frames} is not a frame stage ({', '.join(map(str, FRAME_STAGES))})")
    idx = FRAME_STAGES.index(frames)
    if idx == 0:
        raise ConfigError(f"f{frames} has no previous frame count to initialise from")
    return FRAME_STAGES[idx - 1]


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines one network: the single argument of every model constructor.

    ``inflation`` says how 2D weights become 3D ones when pretrained weights are loaded;
    ``layout`` selects the reference-code or the paper's layout of a model (docs/models.md,
    "Two layouts").
    """

    arch: str
    backbone: str
    num_frames: int
    num_classes: int
    temporal_pooling: bool = DEFAULT_TEMPORAL_POOLING
    tam_locations: str = DEFAULT_TAM_LOCATIONS
    dropout: float = defaults.TRAIN["model"]["dropout"]
    inflation: str = defaults.TRAIN["inflation"]
    layout: str = DEFAULT_LAYOUT

    @property
    def name(self) -> str:
        """The model's name (``model_name`` without the run's sampling)."""
        return model_name(
            self.arch,
            self.backbone,
            self.temporal_pooling,
            tam_locations=self.tam_locations,
            layout=self.layout,
        )

    @property
    def label(self) -> str:
        return label(
            self.arch, self.backbone, self.temporal_pooling, DEFAULT_SAMPLING, self.tam_locations
        )

    def as_dict(self) -> dict:
        """Plain values (for checkpoints and logs), with the model's ``name``."""
        return {**asdict(self), "name": self.name}


@dataclass(frozen=True)
class RunSpec:
    """One cell of the experiment grid (before protocol resolution)."""

    dataset: str
    arch: str
    backbone: str
    temporal_pooling: bool
    frames: int
    sampling: str = DEFAULT_SAMPLING
    tam_locations: str = DEFAULT_TAM_LOCATIONS
    group: str = ""
    implicit: bool = False  # added only as the progressive-training ancestor of a listed run
    layout: str = DEFAULT_LAYOUT

    @property
    def model_name(self) -> str:
        return model_name(
            self.arch,
            self.backbone,
            self.temporal_pooling,
            sampling=self.sampling,
            tam_locations=self.tam_locations,
            layout=self.layout,
        )

    @property
    def run_id(self) -> str:
        return f"{self.dataset}/{self.model_name}/f{self.frames}"

    @property
    def label(self) -> str:
        return label(
            self.arch, self.backbone, self.temporal_pooling, self.sampling, self.tam_locations
        )

    def with_frames(self, frames: int, implicit: bool) -> RunSpec:
        return replace(self, frames=frames, implicit=implicit)

    def model_spec(
        self,
        num_classes: int,
        dropout: float = ModelSpec.dropout,
        inflation: str = ModelSpec.inflation,
    ) -> ModelSpec:
        """The network this run trains."""
        return ModelSpec(
            self.arch,
            self.backbone,
            self.frames,
            num_classes,
            self.temporal_pooling,
            self.tam_locations,
            dropout,
            inflation,
            self.layout,
        )

    @classmethod
    def parse(cls, run_id: str) -> RunSpec:
        """The run a run id names (``group`` unknown: ids do not carry it)."""
        m = _RUN_ID_RE.match(run_id)
        if not m:
            raise ConfigError(f"malformed run id {run_id!r}: expected {RUN_ID_FORMAT}")
        return cls(
            dataset=m["dataset"],
            arch=m["arch"],
            backbone=m["backbone"],
            temporal_pooling=bool(m["tp"]),
            frames=int(m["frames"]),
            sampling="dense" if m["dense"] else DEFAULT_SAMPLING,
            tam_locations=m["tamloc"] or DEFAULT_TAM_LOCATIONS,
            layout="paper" if m["paper"] else DEFAULT_LAYOUT,
        )


def parse_run_id(run_id: str) -> dict:
    """:meth:`RunSpec.parse` as a plain dict of the fields a run id carries."""
    spec = RunSpec.parse(run_id)
    return {
        "dataset": spec.dataset,
        "arch": spec.arch,
        "backbone": spec.backbone,
        "temporal_pooling": spec.temporal_pooling,
        "sampling": spec.sampling,
        "tam_locations": spec.tam_locations,
        "frames": spec.frames,
        "layout": spec.layout,
    }


def checkpoint_run_id(path: str | None) -> str | None:
    """The run id of a checkpoint path ``<runs_dir>/<dataset>/<model>/f<k>/final.pt``, or None
    when its last three folders do not form one. Only for configs resolved before
    ``init.source_run`` existed: :func:`init_source_run` reads that key first."""
    if not path:
        return None
    parts = PurePosixPath(path).parent.parts[-3:]
    if len(parts) < 3:
        return None
    run_id = "/".join(parts)
    try:
        RunSpec.parse(run_id)
    except ConfigError:
        return None
    return run_id


def init_source_run(init: Mapping | None) -> str | None:
    """The run a resolved config's ``init`` initialises from: its ``source_run`` (an explicit
    null is "none", whatever the path); for configs without that key, a checkpoint path's run."""
    init = init or {}
    if "source_run" in init:
        return init["source_run"] or None
    if init.get("kind") != "checkpoint":
        return None
    return checkpoint_run_id(init.get("path"))
