"""Everything about a model's weights that is not its architecture: initialisation, ImageNet
checkpoints and their inflation to 3D, the reference code's checkpoints, and the input
normalisation the weights expect.

Kept apart from the networks (torchvision style) so that a network file reads as its figure.
"""
