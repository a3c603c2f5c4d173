"""Training and evaluation engine: the protocol of the paper (Table 12, supplementary D) as code.

Everything here takes the resolved run config (a plain dict produced by ``actionbench.config``)
and reads every protocol number from it; nothing of the protocol is a constant in code.
Public entry points: :func:`actionbench.engine.train.train` and
:func:`actionbench.engine.evaluate.evaluate`. Submodules are imported lazily by callers so that
``import actionbench.engine`` stays cheap.
"""
