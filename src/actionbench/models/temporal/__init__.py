"""Temporal kernels a network places in its blocks: TAM, TSM and the dense temporal conv
(``modules``, with their fused ``ops`` and ``batched`` implementations, chosen by ``path``),
non-local blocks and squeeze-excitation.

They know tensors and shapes only: no network, no checkpoint.
"""
