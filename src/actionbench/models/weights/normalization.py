"""The input normalisation each backbone expects: part of the model's spec, declared once here.

Why a model declares it: pretrained weights only work on inputs scaled the way they were trained
with. torchvision's ResNets take ImageNet mean/std; its GoogLeNet (our InceptionV1, 2D and
inflated to I3D/S3D) was trained on inputs in [-1, 1], i.e. mean = std = 0.5 (torchvision's
``transform_input``; the reference code feeds its InceptionV1 models the same way). The data
pipeline never knows backbones: the engine asks :func:`input_normalization` for the run's
backbone and normalises each batch with it (``actionbench.data.transforms.BatchNormalize``).
The model classes' ``input_mean`` / ``input_std`` attributes are taken from this table.

Value range: ``mean`` and ``std`` are in units of the pixel value divided by ``PIXEL_MAX``
(uint8 RGB 0..255 -> [0, 1]); a normalised value is ``(pixel / 255 - mean) / std``.
"""

from __future__ import annotations

from actionbench.errors import ModelError

PIXEL_MAX = 255.0
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)

Stats = tuple[float, float, float]

INPUT_NORMALIZATION: dict[str, tuple[Stats, Stats]] = {
    "inceptionv1": (INCEPTION_MEAN, INCEPTION_STD),
    "resnet18": (IMAGENET_MEAN, IMAGENET_STD),
    "resnet50": (IMAGENET_MEAN, IMAGENET_STD),
    "resnet101": (IMAGENET_MEAN, IMAGENET_STD),
}


def input_normalization(backbone: str) -> tuple[Stats, Stats]:
    """``(mean, std)`` per RGB channel, in [0, 1] pixel units, that ``backbone`` expects."""
    try:
        return INPUT_NORMALIZATION[backbone]
    except KeyError:
        raise ModelError(
            f"no input normalisation declared for backbone {backbone!r}; "
            f"known: {', '.join(INPUT_NORMALIZATION)}"
        ) from None
