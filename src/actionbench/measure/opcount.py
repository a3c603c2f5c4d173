"""Count the aten operators one piece of PyTorch code dispatches (forward and backward).

Why: on a GPU every operator is at least one kernel launch plus Python/dispatcher overhead, so
the number of operators a training step dispatches is what separates a batched implementation
from a per-frame loop, independently of the machine's speed. Counted with a
``TorchDispatchMode`` (below autograd, so backward ops are seen). ``kernels`` leaves out
view/alias ops (view, transpose, detach ...), which move no data and launch nothing. Custom ops
(``actionbench::*``) are counted once: their insides are not visible to the mode.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode


class OpCounter(TorchDispatchMode):
    """``with OpCounter() as c: ...`` then ``c.total``, ``c.kernels``, ``c.ops`` (a Counter)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: collections.Counter = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[func] += 1
        return func(*args, **(kwargs or {}))

    @property
    def total(self) -> int:
        return sum(self.ops.values())

    @property
    def kernels(self) -> int:
        return sum(n for op, n in self.ops.items() if not op.is_view)

    def custom(self) -> list[str]:
        """Names of the actionbench custom ops seen (their insides were not counted)."""
        return [str(op) for op in self.ops if str(op).startswith("actionbench.")]


def count_training_step(model: nn.Module, clip, labels) -> OpCounter:
    """Ops of one training step (forward, cross-entropy, backward) in steady state: one
    untimed step first (caches filled), gradients cleared as an optimizer step leaves them."""
    model.train()
    step: Callable[[], None] = lambda: F.cross_entropy(model(clip), labels).backward()  # noqa: E731
    step()
    model.zero_grad(set_to_none=True)
    counter = OpCounter()
    with counter:
        step()
    model.zero_grad(set_to_none=True)
    return counter
