"""Every architecture of the paper, one registered constructor each.

Section 4 / Figure 3: a model is a backbone whose spatio-temporal modules differ - none
(TSN), a depthwise temporal filter (TAM), a channel shift (TSM), a dense temporal conv
("Conv."), non-local blocks (NLN), inflated 3D convs (I3D, I3D-SE), factorised 3D convs (S3D)
- plus the SlowFast reference. Constructors only pick classes and factories; the networks
live in their own modules. Every constructor takes one :class:`~actionbench.spec.ModelSpec`.
"""

from __future__ import annotations

from functools import partial

from torch import nn

from actionbench.errors import ModelError
from actionbench.models.networks.inception import VideoInceptionV1
from actionbench.models.networks.inception3d import InceptionV1_3d, i3d_block, s3d_block
from actionbench.models.networks.resnet2d import VideoResNet2d
from actionbench.models.networks.resnet3d import FACTORISED, INFLATED, VideoResNet3d
from actionbench.models.networks.slowfast import ALPHA, SlowFast
from actionbench.models.registry import register_arch
from actionbench.models.temporal.modules import TAM, TemporalConv, TemporalFactory, TemporalShift
from actionbench.models.temporal.nonlocal_block import with_nonlocal
from actionbench.models.temporal.se import SqueezeExcitation3d
from actionbench.spec import RESNET_DEPTHS, ModelSpec

RESNETS = tuple(RESNET_DEPTHS)


def _frame_model(spec: ModelSpec, temporal: TemporalFactory | None) -> nn.Module:
    """A 2D (frame-folding) network with ``temporal`` at its temporal-module slots."""
    settings = {
        "num_frames": spec.num_frames,
        "num_classes": spec.num_classes,
        "dropout": spec.dropout,
        "temporal": temporal,
        "locations": spec.tam_locations,
        "temporal_pooling": spec.temporal_pooling,
        "layout": spec.layout,
    }
    if spec.backbone == "inceptionv1":
        return VideoInceptionV1(**settings)
    return VideoResNet2d(RESNET_DEPTHS[spec.backbone], **settings)


@register_arch("tsn", is_3d=False, summary="TSN: frame-wise 2D CNN, logits averaged over time")
def tsn(spec: ModelSpec) -> nn.Module:
    return _frame_model(spec, None)


@register_arch(
    "tam",
    is_3d=False,
    placeable=True,
    summary="TAM: depthwise 3-tap temporal aggregation at every residual-branch input",
)
def tam(spec: ModelSpec) -> nn.Module:
    return _frame_model(spec, TAM)


@register_arch(
    "tsm",
    backbones=RESNETS,
    is_3d=False,
    placeable=True,
    summary="TSM: 1/8 channels shifted each way in time at every residual-branch input",
    note="TSM shifts channels on residual branches; InceptionV1 has none",
)
def tsm(spec: ModelSpec) -> nn.Module:
    return _frame_model(spec, TemporalShift)


@register_arch(
    "tconv",
    is_3d=False,
    placeable=True,
    summary='Table 5 "Conv.": dense kernel-3 temporal conv (C->C) + ReLU at TAM\'s places',
)
def tconv(spec: ModelSpec) -> nn.Module:
    return _frame_model(spec, TemporalConv)


NLN_BLOCKS = {"layer2": 3, "layer3": 2}  # "3 NLN modules and 2 NLN modules at stage 2 and 3"


@register_arch(
    "nln",
    backbones=("resnet50", "resnet101"),
    is_3d=False,
    summary="NLN: TSN-ResNet + 3 non-local blocks in stage 2 and 2 in stage 3",
    note="non-local blocks are defined on bottleneck ResNets; ResNet18's stage 2 has only "
    "2 residual blocks for the 3 non-local blocks",
)
def nln(spec: ModelSpec) -> nn.Module:
    model = _frame_model(spec, None)
    stage_index = {"layer1": 0, "layer2": 1, "layer3": 2, "layer4": 3}
    for layer_name, count in NLN_BLOCKS.items():
        layer = getattr(model, layer_name)
        channels = layer[-1].conv3.out_channels
        frames = model.stage_frames[stage_index[layer_name]]
        setattr(model, layer_name, with_nonlocal(layer, count, channels, frames))
    return model


def _video3d(spec: ModelSpec, variant: str, se=None) -> nn.Module:
    if spec.backbone == "inceptionv1":
        if se is not None:
            raise ModelError("squeeze-excitation is only defined for ResNet backbones")
        reference = spec.layout == "reference"
        block = i3d_block if variant == "i3d" else partial(s3d_block, temporal_bias=reference)
        # I3D keeps the 7x7x7 stem of its paper; S3D's unfactorised stem is 3x7x7 (sec. E)
        stem_t = 7 if variant == "i3d" else 3
        return InceptionV1_3d(
            num_classes=spec.num_classes,
            conv_block=block,
            dropout=spec.dropout,
            temporal_pooling=spec.temporal_pooling,
            stem_t=stem_t,
            layout=spec.layout,
            pool4_t=3 if variant == "i3d" else 2,  # the reference's S3D pool4 is 2x2x2
        )
    return VideoResNet3d(
        RESNET_DEPTHS[spec.backbone],
        INFLATED if variant == "i3d" else FACTORISED,
        num_classes=spec.num_classes,
        dropout=spec.dropout,
        temporal_pooling=spec.temporal_pooling,
        se=se,
        layout=spec.layout,
    )


@register_arch("i3d", is_3d=True, summary="I3D / ResNet3D: 2D kernels inflated to 3D")
def i3d(spec: ModelSpec) -> nn.Module:
    return _video3d(spec, "i3d")


@register_arch(
    "s3d",
    is_3d=True,
    summary="S3D / R(2+1)D: I3D's 3D convs factorised into 2D spatial + 1D temporal",
)
def s3d(spec: ModelSpec) -> nn.Module:
    return _video3d(spec, "s3d")


@register_arch(
    "i3d_se",
    backbones=RESNETS,
    is_3d=True,
    summary="I3D-ResNet with squeeze-excitation on every residual branch (Figure 7)",
    note="squeeze-excitation is placed on residual branches",
)
def i3d_se(spec: ModelSpec) -> nn.Module:
    return _video3d(spec, "i3d", se=partial(SqueezeExcitation3d, reduction=16))


@register_arch(
    "slowfast",
    backbones=("resnet50",),
    temporal_pooling=(False,),
    is_3d=True,
    summary="SlowFast-ResNet50 8x8 (reference model; num_frames = fast-pathway frames)",
    note="the SlowFast reference model is the ResNet50 8x8 configuration without temporal pooling",
)
def slowfast(spec: ModelSpec) -> nn.Module:
    if spec.num_frames % ALPHA:
        raise ModelError(
            f"slowfast needs num_frames divisible by {ALPHA} (slow pathway = every {ALPHA}th "
            f"frame), got {spec.num_frames}"
        )
    return SlowFast(num_classes=spec.num_classes, dropout=spec.dropout)
