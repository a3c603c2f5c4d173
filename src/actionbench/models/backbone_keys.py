"""The tensors of each backbone as torchvision defines them: what an ImageNet file must hold.

Why torchvision's networks: the ImageNet weights the pipeline takes are torchvision state dicts
(docs/models.md) and every video model keeps torchvision's module names for its backbone. So
the torchvision network, built on the meta device (no memory, milliseconds), says which tensors
make up a backbone and their shapes. A file is the right backbone when it holds exactly those
(up to the classifier and the extras below); a video model's tensor that maps to none of them is,
by construction, something its architecture adds (a temporal module, a non-local or SE block,
a factorised temporal convolution, SlowFast's fast pathway, the classifier); no per-architecture
list is written anywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torchvision
from torch import Tensor, nn

from actionbench.errors import ModelError
from actionbench.spec import BACKBONES, RESNET_DEPTHS

# BatchNorm's step counter: files saved before PyTorch 0.4.1 lack it; it is not a weight.
COUNTER_SUFFIX = "num_batches_tracked"

Shape = tuple[int, ...]


def _googlenet(aux_logits: bool) -> Callable[[], nn.Module]:
    return lambda: torchvision.models.googlenet(aux_logits=aux_logits, init_weights=False)


def _resnet(name: str) -> Callable[[], nn.Module]:
    return lambda: getattr(torchvision.models, name)()


# backbone -> (the torchvision network, the same network with every optional head a torchvision
# checkpoint may carry). GoogLeNet's ImageNet file holds the aux1/aux2 training heads.
TORCHVISION: dict[str, tuple[Callable[[], nn.Module], Callable[[], nn.Module]]] = {
    "inceptionv1": (_googlenet(False), _googlenet(True)),
    **{name: (_resnet(name), _resnet(name)) for name in RESNET_DEPTHS},
}


@dataclass(frozen=True)
class BackboneKeys:
    """The state-dict keys of one backbone's torchvision network.

    shapes: every tensor of the network, classifier included.
    classifier: the keys of its classifier (the last ``nn.Linear``), which a video model
        replaces by its own whenever its class count differs.
    extras: keys a torchvision checkpoint may carry that no video model uses (GoogLeNet's aux
        heads); their shapes are not checked.
    """

    name: str
    shapes: Mapping[str, Shape]
    classifier: frozenset[str]
    extras: frozenset[str]

    @property
    def required(self) -> list[str]:
        """Keys every file and every video model of this backbone must hold."""
        return [
            k for k in self.shapes if k not in self.classifier and not k.endswith(COUNTER_SUFFIX)
        ]

    def problems(
        self, source: Mapping[str, Tensor]
    ) -> tuple[list[tuple[str, Shape, Shape]], list[str], list[str]]:
        """``(mismatched, unexpected, missing)`` of ``source`` against this backbone.

        The classifier may be absent or of any class count; extras may be absent.
        """
        mismatched = [
            (k, tuple(v.shape), self.shapes[k])
            for k, v in source.items()
            if k in self.shapes and k not in self.classifier and tuple(v.shape) != self.shapes[k]
        ]
        unexpected = [k for k in source if k not in self.shapes and k not in self.extras]
        missing = [k for k in self.required if k not in source]
        return mismatched, unexpected, missing


@functools.cache
def backbone_keys(backbone: str) -> BackboneKeys:
    """The :class:`BackboneKeys` of ``backbone`` (one of ``spec.BACKBONES``)."""
    if backbone not in TORCHVISION:
        raise ModelError(f"unknown backbone {backbone!r}; known: {', '.join(BACKBONES)}")
    plain, with_heads = TORCHVISION[backbone]
    with torch.device("meta"):
        net, full = plain(), with_heads()
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    last_linear = [name for name, m in net.named_modules() if isinstance(m, nn.Linear)][-1]
    classifier = frozenset(
        f"{last_linear}.{p}" for p, _ in net.get_submodule(last_linear).named_parameters()
    )
    extras = frozenset(k for k in full.state_dict() if k not in shapes)
    return BackboneKeys(backbone, shapes, classifier, extras)


def identify(source: Mapping[str, Tensor]) -> str | None:
    """The backbone whose torchvision weights ``source`` holds, if it is one of ours."""
    for name in BACKBONES:
        if not any(backbone_keys(name).problems(source)):
            return name
    return None
