"""Fused tensor kernels behind the 2D temporal modules (TAM, TSM, the dense temporal conv).

Why custom ops: written as plain autograd graphs (three depthwise convs, pad, stack, sum, ReLU
as in the reference code) TAM made a ResNet50 training step 2-3x slower on our CPU, almost
all of it allocating and re-reading full-size activations. Here each op allocates at most one
output in the forward pass and one gradient in the backward pass and works on contiguous
``(B, T, C, H*W)`` views with in-place updates; on CPU, TAM and TSM are further fused with the
1x1 conv that follows them so that they allocate nothing beyond what that conv allocates
(see docs/models.md for the measurements). They are registered with ``torch.library`` so that

* FLOP counters see named ops (``actionbench::tam`` ...) and can be given a formula for them,
* they run on the meta device (shape-only profiling) through their fake implementations,
* ``torch.jit.trace`` (fvcore) records them as single nodes.

All tensors are in the folded layout of a 2D network: ``(B*T, C, H, W)`` with frames of one
clip consecutive in the first dimension.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["tam", "tam_conv1x1", "temporal_conv", "temporal_shift", "tsm_conv1x1"]


def clips_in(x: Tensor, num_frames: int) -> int:
    """B of a folded (B*T, C, H, W) tensor; a batch that is not whole clips is an error."""
    n = x.shape[0]
    if n % num_frames:
        raise ValueError(
            f"batch dimension {n} is not a multiple of num_frames={num_frames}; "
            "a folded 2D video tensor holds B*T frames"
        )
    return n // num_frames


def _frames_view(x: Tensor, num_frames: int) -> Tensor:
    """(B*T, C, H, W) -> (B, T, C, H*W) view; the op's contract requires contiguity."""
    _, c, h, w = x.shape
    return x.view(clips_in(x, num_frames), num_frames, c, h * w)


# --------------------------------------------------------------------------------------------
# TAM: out[t] = relu(w0 * x[t-1] + w1 * x[t] + w2 * x[t+1]), per channel, zero outside the clip.
# --------------------------------------------------------------------------------------------


# Work on one frame (or a few clips' frame t) at a time where that keeps the operands of a
# step in cache; on CPU this halves the cost of the backward pass. ~1M elements = 4 MB fp32.
_CHUNK_ELEMS = 1 << 20


def _clip_groups(b: int, frame_elems: int, device: torch.device) -> list[slice]:
    """Groups of clips processed together at each time step (all of them on GPUs)."""
    if device.type != "cpu":
        return [slice(0, b)]
    step = max(1, min(b, _CHUNK_ELEMS // max(1, frame_elems)))
    return [slice(i, min(b, i + step)) for i in range(0, b, step)]


# TAM and the dense temporal conv are both filters over time followed by a ReLU, with the
# signature (x, weight, num_frames): they share the fake (meta) output and what is saved.
def _filter_fake(x: Tensor, weight: Tensor, num_frames: int) -> Tensor:
    return torch.empty_like(x, memory_format=torch.contiguous_format)


def _filter_setup_context(ctx, inputs, output) -> None:
    """The backward pass needs the input, the weight and the output (its ReLU mask)."""
    x, weight, num_frames = inputs
    ctx.num_frames = num_frames
    ctx.save_for_backward(x, weight, output)


@torch.library.custom_op("actionbench::tam", mutates_args=())
def tam(x: Tensor, weight: Tensor, num_frames: int) -> Tensor:
    """Temporal aggregation module: depthwise 3-tap temporal filter + ReLU.

    ``weight`` is ``(C, 3)``; column k multiplies frame ``t + k - 1``; zero outside the clip.
    """
    x = x.contiguous()
    xv = _frames_view(x, num_frames)
    b, t_len, c, k = xv.shape
    w = weight.to(x.dtype).unsqueeze(-1)  # (C, 3, 1)
    w_prev, w_cur, w_next = w[:, 0], w[:, 1], w[:, 2]
    out = torch.empty_like(xv)
    for clips in _clip_groups(b, c * k, x.device):
        xs, os_ = xv[clips], out[clips]
        for t in range(t_len):
            ot = os_[:, t]
            torch.mul(xs[:, t], w_cur, out=ot)
            if t > 0:
                ot.addcmul_(xs[:, t - 1], w_prev)
            if t + 1 < t_len:
                ot.addcmul_(xs[:, t + 1], w_next)
            ot.relu_()
    return out.view_as(x)


tam.register_fake(_filter_fake)


def _tam_backward(ctx, grad_out: Tensor):
    """One pass over time: per-channel dots for dL/dw, then dL/dx written over the masked grad.

    g = grad * (out > 0) is our own fresh tensor. At step t the dots <g[t], x[t-1..t+1]> are
    taken, then g[t] is replaced by dL/dx[t] = w1 g[t] + w0 g[t+1] + w2 g[t-1]; g[t+1] is still
    untouched and the original g[t-1] was kept in a frame-sized buffer.
    """
    x, weight, out = ctx.saved_tensors
    t_len = ctx.num_frames
    g = torch.ops.aten.threshold_backward(grad_out.contiguous(), out, 0)
    gv = _frames_view(g, t_len)
    xv = _frames_view(x.contiguous(), t_len)
    b, _, c, k = gv.shape
    need_w = ctx.needs_input_grad[1]
    need_x = ctx.needs_input_grad[0]
    w = weight.to(g.dtype).unsqueeze(-1)
    w_prev, w_cur, w_next = w[:, 0], w[:, 1], w[:, 2]
    groups = _clip_groups(b, c * k, g.device)
    # dots[tap, t, group, c]; fp16/bf16 dots accumulate in fp32 through the final sum
    dots = g.new_zeros((3, t_len, len(groups), c))
    for gi, clips in enumerate(groups):
        gs, xs = gv[clips], xv[clips]
        n = gs.shape[0]
        tmp = g.new_empty((n, c, k))
        saved = g.new_empty((n, c, k))  # original g[t-1]
        nxt = g.new_empty((n, c, k))
        for t in range(t_len):
            gt = gs[:, t]
            if need_w:
                torch.sum(torch.mul(gt, xs[:, t], out=tmp), (0, 2), out=dots[1, t, gi])
                if t > 0:
                    torch.sum(torch.mul(gt, xs[:, t - 1], out=tmp), (0, 2), out=dots[0, t, gi])
                if t + 1 < t_len:
                    torch.sum(torch.mul(gt, xs[:, t + 1], out=tmp), (0, 2), out=dots[2, t, gi])
            if need_x:
                if t + 1 < t_len:
                    nxt.copy_(gt)
                gt.mul_(w_cur)
                if t + 1 < t_len:
                    gt.addcmul_(gs[:, t + 1], w_prev)
                if t > 0:
                    gt.addcmul_(saved, w_next)
                saved, nxt = nxt, saved
    acc = torch.promote_types(g.dtype, torch.float32)
    grad_w = dots.sum((1, 2), dtype=acc).t().to(weight.dtype) if need_w else None
    grad_x = g.view_as(x) if need_x else None
    return grad_x, grad_w, None


tam.register_autograd(_tam_backward, setup_context=_filter_setup_context)


# --------------------------------------------------------------------------------------------
# TAM fused with the 1x1 convolution that follows it (the first conv of a bottleneck branch).
#
# Unfused, TAM adds a full-size activation per block in the forward pass (its output, kept
# for the conv's weight gradient) and another in the backward pass. On CPUs those large fresh
# buffers are page-faulted in every step and cost more than TAM's arithmetic. Here TAM's output
# only ever exists one frame at a time in a small reused buffer: the forward pass computes
# frame t and multiplies it by the conv weight straight into the conv output; the backward pass
# recomputes it (three multiply-adds per element) for the conv's weight gradient. The block then
# allocates exactly what the TSN block allocates.
# --------------------------------------------------------------------------------------------


def _tam_frame(xc: Tensor, t: int, w: Tensor, out: Tensor) -> Tensor:
    """TAM output of frame t of one clip ``xc`` (T, C, K) into ``out`` (C, K)."""
    torch.mul(xc[t], w[:, 1], out=out)
    if t > 0:
        out.addcmul_(xc[t - 1], w[:, 0])
    if t + 1 < xc.shape[0]:
        out.addcmul_(xc[t + 1], w[:, 2])
    return out.relu_()


def _conv1x1_shape(x: Tensor, conv_weight: Tensor) -> tuple[int, int, int, int]:
    """``(B*T, O, H, W)``: the folded output of a fused op ending in a 1x1 conv ``(O, C, 1, 1)``."""
    n, _, h, w = x.shape
    return n, conv_weight.shape[0], h, w


def _conv1x1_operands(x: Tensor, conv_weight: Tensor, num_frames: int) -> tuple[Tensor, Tensor]:
    """What the fused ops' GEMMs work on: the ``(B, T, C, H*W)`` frames view of ``x`` (made
    contiguous) and the 1x1 conv as an ``(O, C)`` matrix in x's dtype."""
    xv = _frames_view(x.contiguous(), num_frames)
    return xv, conv_weight.to(x.dtype).reshape(conv_weight.shape[0], xv.shape[2])


@torch.library.custom_op("actionbench::tam_conv1x1", mutates_args=())
def tam_conv1x1(x: Tensor, tam_weight: Tensor, conv_weight: Tensor, num_frames: int) -> Tensor:
    """``conv1x1(tam(x))`` for a bias-free, stride-1, ungrouped 1x1 conv ``(O, C, 1, 1)``."""
    xv, mat = _conv1x1_operands(x, conv_weight, num_frames)
    b, t_len, c, k = xv.shape
    w = tam_weight.to(x.dtype).unsqueeze(-1)
    out = x.new_empty((b, t_len, mat.shape[0], k))
    y = x.new_empty((c, k))
    for i in range(b):
        for t in range(t_len):
            torch.mm(mat, _tam_frame(xv[i], t, w, y), out=out[i, t])
    return out.view(_conv1x1_shape(x, conv_weight))


@tam_conv1x1.register_fake
def _tam_conv1x1_fake(x: Tensor, tam_weight: Tensor, conv_weight: Tensor, num_frames: int):
    return x.new_empty(_conv1x1_shape(x, conv_weight))


def _tam_conv_setup_context(ctx, inputs, output) -> None:
    x, tam_weight, conv_weight, num_frames = inputs
    ctx.num_frames = num_frames
    ctx.save_for_backward(x, tam_weight, conv_weight)


def _tam_conv_backward(ctx, grad_out: Tensor):
    """Frame by frame: recompute y[t+1], take the conv's gradients for it, mask; then finish
    dL/dx[t] and the TAM weight dots of frame t, which need the masked grads of t-1..t+1."""
    x, tam_weight, conv_weight = ctx.saved_tensors
    t_len = ctx.num_frames
    xv, mat = _conv1x1_operands(x, conv_weight, t_len)
    gz = _frames_view(grad_out.contiguous(), t_len)
    b, _, c, k = xv.shape
    o = mat.shape[0]
    dtype = x.dtype
    w = tam_weight.to(dtype).unsqueeze(-1)
    mat_t = mat.t()
    acc = torch.promote_types(dtype, torch.float32)
    grad_conv = torch.zeros(o, c, dtype=acc, device=x.device)
    grad_tam = torch.zeros(3, c, dtype=acc, device=x.device)
    grad_x = torch.empty_like(xv)
    y = x.new_empty((c, k))
    tmp = x.new_empty((c, k))
    ring = [x.new_empty((c, k)) for _ in range(3)]

    def masked_grad(i: int, t: int, buf: Tensor) -> None:
        _tam_frame(xv[i], t, w, y)
        grad_conv.addmm_(gz[i, t], y.t())
        torch.mm(mat_t, gz[i, t], out=buf)
        torch.ops.aten.threshold_backward.grad_input(buf, y, 0, grad_input=buf)

    for i in range(b):
        xc = xv[i]
        masked_grad(i, 0, ring[0])
        for t in range(t_len):
            g = ring[t % 3]
            if t + 1 < t_len:
                masked_grad(i, t + 1, ring[(t + 1) % 3])
            grad_tam[1] += torch.mul(g, xc[t], out=tmp).sum(-1)
            if t > 0:
                grad_tam[0] += torch.mul(g, xc[t - 1], out=tmp).sum(-1)
            if t + 1 < t_len:
                grad_tam[2] += torch.mul(g, xc[t + 1], out=tmp).sum(-1)
            gx = grad_x[i, t]
            torch.mul(g, w[:, 1], out=gx)
            if t + 1 < t_len:
                gx.addcmul_(ring[(t + 1) % 3], w[:, 0])
            if t > 0:
                gx.addcmul_(ring[(t - 1) % 3], w[:, 2])
    return (
        grad_x.view_as(x),
        grad_tam.t().to(tam_weight.dtype),
        grad_conv.to(conv_weight.dtype).view_as(conv_weight),
        None,
    )


tam_conv1x1.register_autograd(_tam_conv_backward, setup_context=_tam_conv_setup_context)


# --------------------------------------------------------------------------------------------
# TSM: shift 1/fold_div of the channels one frame back, 1/fold_div one frame forward.
# --------------------------------------------------------------------------------------------


def _shift(x: Tensor, num_frames: int, fold: int, direction: int) -> Tensor:
    """One copy pass: channels [0, fold) move by -direction frames, [fold, 2 fold) by +direction."""
    x = x.contiguous()
    xv = _frames_view(x, num_frames)
    out = torch.empty_like(xv)
    out[:, :, 2 * fold :].copy_(xv[:, :, 2 * fold :])
    if direction > 0:  # forward op: frame t reads channels [0,fold) of t+1, [fold,2fold) of t-1
        a_dst, a_src, a_zero = slice(None, -1), slice(1, None), -1
        b_dst, b_src, b_zero = slice(1, None), slice(None, -1), 0
    else:  # adjoint: the transpose of the above
        a_dst, a_src, a_zero = slice(1, None), slice(None, -1), 0
        b_dst, b_src, b_zero = slice(None, -1), slice(1, None), -1
    out[:, a_dst, :fold].copy_(xv[:, a_src, :fold])
    out[:, a_zero, :fold].zero_()
    out[:, b_dst, fold : 2 * fold].copy_(xv[:, b_src, fold : 2 * fold])
    out[:, b_zero, fold : 2 * fold].zero_()
    return out.view_as(x)


@torch.library.custom_op("actionbench::temporal_shift", mutates_args=())
def temporal_shift(x: Tensor, num_frames: int, fold_div: int) -> Tensor:
    """TSM shift (Lin et al.): zero-padded at the clip ends, no parameters, no FLOPs."""
    return _shift(x, num_frames, x.shape[1] // fold_div, +1)


@temporal_shift.register_fake
def _temporal_shift_fake(x: Tensor, num_frames: int, fold_div: int) -> Tensor:
    return torch.empty_like(x, memory_format=torch.contiguous_format)


def _shift_setup_context(ctx, inputs, output) -> None:
    _, num_frames, fold_div = inputs
    ctx.num_frames, ctx.fold_div = num_frames, fold_div


def _shift_backward(ctx, grad_out: Tensor):
    fold = grad_out.shape[1] // ctx.fold_div
    return _shift(grad_out, ctx.num_frames, fold, -1), None, None


temporal_shift.register_autograd(_shift_backward, setup_context=_shift_setup_context)


def _fold(c: int, fold_div: int) -> tuple[slice, slice, slice]:
    """Channel groups of TSM: read from frame t+1, from frame t-1, and not shifted."""
    f = c // fold_div
    return slice(0, f), slice(f, 2 * f), slice(2 * f, c)


@torch.library.custom_op("actionbench::tsm_conv1x1", mutates_args=())
def tsm_conv1x1(x: Tensor, conv_weight: Tensor, num_frames: int, fold_div: int) -> Tensor:
    """``conv1x1(temporal_shift(x))`` without building the shifted tensor: per frame, the conv
    is three GEMMs over the channel groups of frames t+1, t-1 and t."""
    xv, mat = _conv1x1_operands(x, conv_weight, num_frames)
    b, t_len, c, k = xv.shape
    a, bb, rest = _fold(c, fold_div)
    out = x.new_empty((b, t_len, mat.shape[0], k))
    for i in range(b):
        for t in range(t_len):
            zt = out[i, t]
            torch.mm(mat[:, rest], xv[i, t, rest], out=zt)
            if t + 1 < t_len and a.stop > 0:
                zt.addmm_(mat[:, a], xv[i, t + 1, a])
            if t > 0 and a.stop > 0:
                zt.addmm_(mat[:, bb], xv[i, t - 1, bb])
    return out.view(_conv1x1_shape(x, conv_weight))


@tsm_conv1x1.register_fake
def _tsm_conv1x1_fake(x: Tensor, conv_weight: Tensor, num_frames: int, fold_div: int):
    return x.new_empty(_conv1x1_shape(x, conv_weight))


def _tsm_conv_setup_context(ctx, inputs, output) -> None:
    x, conv_weight, num_frames, fold_div = inputs
    ctx.num_frames, ctx.fold_div = num_frames, fold_div
    ctx.save_for_backward(x, conv_weight)


def _tsm_conv_backward(ctx, grad_out: Tensor):
    x, conv_weight = ctx.saved_tensors
    t_len = ctx.num_frames
    xv, mat = _conv1x1_operands(x, conv_weight, t_len)
    gz = _frames_view(grad_out.contiguous(), t_len)
    b, _, c, k = xv.shape
    o = mat.shape[0]
    a, bb, rest = _fold(c, ctx.fold_div)
    acc = torch.promote_types(x.dtype, torch.float32)
    # weight gradients of the three channel groups, concatenated at the end
    grad_a, grad_b, grad_rest = (
        torch.zeros(o, g.stop - g.start, dtype=acc, device=x.device) for g in (a, bb, rest)
    )
    grad_x = torch.empty_like(xv)
    for i in range(b):
        for t in range(t_len):
            g = gz[i, t]
            grad_rest.addmm_(g, xv[i, t, rest].t())
            torch.mm(mat[:, rest].t(), g, out=grad_x[i, t, rest])
            if a.stop == 0:
                continue
            if t + 1 < t_len:
                grad_a.addmm_(g, xv[i, t + 1, a].t())
                torch.mm(mat[:, bb].t(), gz[i, t + 1], out=grad_x[i, t, bb])
            else:
                grad_x[i, t, bb].zero_()
            if t > 0:
                grad_b.addmm_(g, xv[i, t - 1, bb].t())
                torch.mm(mat[:, a].t(), gz[i, t - 1], out=grad_x[i, t, a])
            else:
                grad_x[i, t, a].zero_()
    grad_w = torch.cat([grad_a, grad_b, grad_rest], dim=1)
    return grad_x.view_as(x), grad_w.to(conv_weight.dtype).view_as(conv_weight), None, None


tsm_conv1x1.register_autograd(_tsm_conv_backward, setup_context=_tsm_conv_setup_context)


# --------------------------------------------------------------------------------------------
# Dense temporal conv ("Conv." of Table 5): out[t] = relu(W0 x[t-1] + W1 x[t] + W2 x[t+1]).
# Three GEMMs per frame straight into the output: no 3C-channel intermediate.
# --------------------------------------------------------------------------------------------


@torch.library.custom_op("actionbench::temporal_conv", mutates_args=())
def temporal_conv(x: Tensor, weight: Tensor, num_frames: int) -> Tensor:
    """Kernel-3 temporal convolution C -> C (``weight`` is ``(C, C, 3)``), zero-padded, ReLU."""
    x = x.contiguous()
    xv = _frames_view(x, num_frames)
    b, t_len, c, k = xv.shape
    taps = weight.to(x.dtype).permute(2, 0, 1).contiguous()  # (3, C_out, C_in)
    out = torch.empty_like(xv)
    for i in range(b):
        for t in range(t_len):
            yt = out[i, t]
            torch.mm(taps[1], xv[i, t], out=yt)
            if t > 0:
                yt.addmm_(taps[0], xv[i, t - 1])
            if t + 1 < t_len:
                yt.addmm_(taps[2], xv[i, t + 1])
    return out.relu_().view_as(x)


temporal_conv.register_fake(_filter_fake)


def _tconv_backward(ctx, grad_out: Tensor):
    x, weight, out = ctx.saved_tensors
    t_len = ctx.num_frames
    x = x.contiguous()
    xv = _frames_view(x, t_len)
    g = torch.ops.aten.threshold_backward(grad_out.contiguous(), out, 0)
    gv = _frames_view(g, t_len)
    b, _, c, k = xv.shape
    taps = weight.to(x.dtype).permute(2, 0, 1).contiguous()
    acc = torch.promote_types(x.dtype, torch.float32)
    grad_taps = torch.zeros(3, c, c, dtype=acc, device=x.device)
    grad_x = torch.empty_like(xv)
    for i in range(b):
        for t in range(t_len):
            gt = gv[i, t]
            grad_taps[1].addmm_(gt, xv[i, t].t())
            torch.mm(taps[1].t(), gt, out=grad_x[i, t])
            if t > 0:
                grad_taps[0].addmm_(gt, xv[i, t - 1].t())
                grad_x[i, t].addmm_(taps[2].t(), gv[i, t - 1])
            if t + 1 < t_len:
                grad_taps[2].addmm_(gt, xv[i, t + 1].t())
                grad_x[i, t].addmm_(taps[0].t(), gv[i, t + 1])
    grad_w = grad_taps.permute(1, 2, 0).to(weight.dtype)
    return grad_x.view_as(x), grad_w, None


temporal_conv.register_autograd(_tconv_backward, setup_context=_filter_setup_context)
