"""The networks: 2D (frame-folding) and 3D backbones, SlowFast, and the pieces they share
(temporal pooling, the 3D classifier head).

A network takes the temporal module it places (``models.temporal``) and initialises its layers
with ``models.weights``; it never loads a checkpoint. ``actionbench.models.build_model`` is the
door that picks one by name.
"""
