"""Parameter and FLOP counts, counted the way the paper's Table 10 is (fvcore convention).

"FLOPs" here are multiply-accumulates (fvcore counts one fused multiply-add as one flop) of
convolutions, linear layers and matrix products (``bmm``/``matmul``/``einsum``: the non-local
attention), for ONE clip. Batch norm, pooling, softmax and element-wise ops are not counted,
which is what reproduces the paper's numbers (TSN-ResNet50, 8 frames: 32.7 G). Our fused
custom ops are given the count of the layers they replace: TAM = its three depthwise 1x1
convolutions (3 MACs per input element), the dense temporal conv = a (3, 1, 1) Conv3d, an op
fused with the following 1x1 conv = both, the TSM shift = 0.

The default counter is ``torch.utils.flop_counter.FlopCounterMode`` on the meta device, so a
224x224 clip is "run" without allocating or computing anything (milliseconds, any model size).
``counter="fvcore"`` traces a real forward pass with fvcore's ``FlopCountAnalysis`` instead
(same handles; tests check that both agree).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from math import prod
from typing import Any

import torch
from torch import nn

from actionbench.defaults import DATASET
from actionbench.models import as_spec, build_model, check_combination

log = logging.getLogger(__name__)

COUNTING_NOTE = (
    "multiply-adds of conv/linear/matmul (fvcore convention, BN/pool/element-wise excluded) "
    "for one clip"
)


def _tam_macs(x_shape, *args, **kwargs) -> int:
    return 3 * prod(x_shape)


def _conv1x1_macs(x_shape, w_shape) -> int:
    n, c, h, w = x_shape
    return n * w_shape[0] * c * h * w


def _tam_conv_macs(x_shape, w_shape) -> int:
    """TAM's three depthwise 1x1 convs plus the dense 1x1 conv fused after it."""
    return _tam_macs(x_shape) + _conv1x1_macs(x_shape, w_shape)


def _tconv_macs(x_shape, w_shape) -> int:
    """A (C, C, 3) temporal conv: 3 C_in MACs per output element, as Conv3d is counted."""
    n, c, h, w = x_shape
    return n * w_shape[0] * c * 3 * h * w


def _flop_counter_mapping() -> dict:
    """Custom op -> FlopCounterMode formula (counter convention: 2 FLOPs per multiply-add)."""
    ops = torch.ops.actionbench  # the counter looks ops up by overload packet
    return {
        ops.tam: lambda x_shape, *a, **k: 2 * _tam_macs(x_shape),
        ops.tam_conv1x1: lambda x_shape, _tw, w_shape, *a, **k: (
            2 * _tam_conv_macs(x_shape, w_shape)
        ),
        ops.temporal_shift: lambda *a, **k: 0,
        ops.tsm_conv1x1: lambda x_shape, w_shape, *a, **k: 2 * _conv1x1_macs(x_shape, w_shape),
        ops.temporal_conv: lambda x_shape, w_shape, *a, **k: 2 * _tconv_macs(x_shape, w_shape),
    }


# fvcore's default handles that count multiply-adds; its norm/pool/upsample ones are left out
_FVCORE_MAC_OPS = (
    "aten::_convolution",
    "aten::addmm",
    "aten::bmm",
    "aten::einsum",
    "aten::matmul",
    "aten::mm",
    "aten::linear",
)


def _fvcore_handles() -> dict[str, Callable]:
    from fvcore.nn.flop_count import _DEFAULT_SUPPORTED_OPS
    from fvcore.nn.jit_handles import get_shape

    handles = {name: _DEFAULT_SUPPORTED_OPS[name] for name in _FVCORE_MAC_OPS}
    handles["actionbench::tam"] = lambda inputs, outputs: _tam_macs(get_shape(inputs[0]))
    handles["actionbench::tam_conv1x1"] = lambda inputs, outputs: _tam_conv_macs(
        get_shape(inputs[0]), get_shape(inputs[2])
    )
    handles["actionbench::tsm_conv1x1"] = lambda inputs, outputs: _conv1x1_macs(
        get_shape(inputs[0]), get_shape(inputs[1])
    )
    handles["actionbench::temporal_conv"] = lambda inputs, outputs: _tconv_macs(
        get_shape(inputs[0]), get_shape(inputs[1])
    )
    return handles


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, clip: torch.Tensor, counter: str = "flop_counter") -> int:
    """Multiply-adds of one forward pass of ``model`` on ``clip`` (model in eval mode)."""
    model.eval()
    if counter == "flop_counter":
        from torch.utils.flop_counter import FlopCounterMode

        with (
            torch.no_grad(),
            FlopCounterMode(display=False, custom_mapping=_flop_counter_mapping()) as mode,
        ):
            model(clip)
        return mode.get_total_flops() // 2
    if counter == "fvcore":
        import warnings

        from fvcore.nn import FlopCountAnalysis

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            analysis = FlopCountAnalysis(model, clip).clear_op_handles()
            analysis.set_op_handle(**_fvcore_handles())
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            return int(analysis.total())
    raise ValueError(f"counter must be 'flop_counter' or 'fvcore', got {counter!r}")


def profile_model(
    arch: str,
    backbone: str,
    frames: int,
    num_classes: int,
    temporal_pooling: bool = False,
    *,
    size: int = DATASET["input_size"],
    counter: str = "flop_counter",
    **kw: Any,
) -> dict[str, Any]:
    """Parameters and GFLOPs (billions of multiply-adds) of one ``frames``-frame clip.

    Extra keyword arguments (``tam_locations``, ``dropout``, ``layout``...) are ModelSpec fields. The model
    is built on the meta device for the default counter, so nothing is computed.
    """
    spec = as_spec(arch, backbone, frames, num_classes, temporal_pooling, **kw)
    check_combination(spec)
    device = torch.device("meta") if counter == "flop_counter" else torch.device("cpu")
    with device:
        model = build_model(spec)
        clip = torch.empty(1, 3, frames, size, size)
    fc_rows: list[int] = []
    hook = None
    if isinstance(getattr(model, "fc", None), nn.Linear):
        hook = model.fc.register_forward_hook(
            lambda mod, inp, out: fc_rows.append(inp[0].numel() // mod.in_features)
        )
    macs = count_macs(model, clip, counter)
    if hook is not None:
        hook.remove()
    classifier_macs = sum(fc_rows) * model.fc.in_features * model.fc.out_features if fc_rows else 0
    result = {
        "model": spec.name,
        "arch": arch,
        "backbone": backbone,
        "frames": frames,
        "num_classes": num_classes,
        "temporal_pooling": bool(temporal_pooling),
        "layout": model.config["layout"],
        "size": size,
        "params": count_parameters(model),
        "gflops": macs / 1e9,
        # the classifier's share: the reference's published table counts convolutions only,
        # so its figures equal gflops - classifier_gflops
        "classifier_gflops": classifier_macs / 1e9,
        "counting": COUNTING_NOTE,
    }
    log.debug("profiled %s: %s", result["model"], result)
    return result


def run_cost(cfg: Mapping[str, Any]) -> dict[str, float]:
    """GFLOPs of one clip at the run's input size and parameters (millions) of the network a
    run config builds, counted as ``actionbench profile`` counts, on the meta device: nothing is
    allocated or computed (milliseconds). The evaluation logs them beside its accuracies."""
    from actionbench.engine import factory, runcfg

    frames = runcfg.get_int(cfg, "frames", minimum=1)
    size = runcfg.get_int(cfg, "data.input_size", minimum=1)
    with torch.device("meta"):
        model = factory.build_model(cfg, pretrained=None)
        clip = torch.empty(1, 3, frames, size, size)
    return {"gflops": count_macs(model, clip) / 1e9, "params_m": count_parameters(model) / 1e6}
