"""The model zoo: every 2D and 3D architecture of the paper behind one door, ``build_model``.

>>> from actionbench.models import build_model, list_models
>>> model = build_model("tam", "resnet50", num_frames=8, num_classes=87)   # doctest: +SKIP

Models take ``(B, 3, T, H, W)`` float clips and return ``(B, num_classes)`` logits.
``list_models()`` lists the supported ``(arch, backbone, temporal_pooling)`` combinations;
anything else raises :class:`actionbench.errors.ModelError`.

Below the door: ``networks`` (backbones and whole networks), ``temporal`` (the temporal kernels
the networks place) and ``weights`` (initialisation, checkpoints, inflation, input
normalisation). Counting and timing models is :mod:`actionbench.measure`'s job, above the zoo.
"""

from actionbench.models import archs as _archs  # noqa: F401  (registers every architecture)
from actionbench.models.registry import (
    as_spec,
    build_model,
    check_combination,
    get_arch,
    list_archs,
    list_models,
    register_arch,
)
from actionbench.models.weights.normalization import input_normalization
from actionbench.models.weights.pretrained import LoadReport, load_pretrained
from actionbench.spec import BACKBONES, LAYOUTS, ModelSpec, model_name

__all__ = [
    "BACKBONES",
    "LAYOUTS",
    "LoadReport",
    "ModelSpec",
    "as_spec",
    "build_model",
    "check_combination",
    "get_arch",
    "input_normalization",
    "list_archs",
    "list_models",
    "load_pretrained",
    "model_name",
    "register_arch",
]
