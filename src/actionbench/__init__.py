"""actionbench: train and compare 2D-CNN and 3D-CNN action-recognition models on equal terms.

Re-implements the protocol of Chen et al., "Deep Analysis of CNN-based Spatio-temporal
Representations for Action Recognition" (CVPR 2021) as a reproducible pipeline.
"""

__version__ = "0.1.0"
