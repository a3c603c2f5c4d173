"""A model declares its input normalisation; training and evaluation feed it exactly that.

Real frame folders, the real dataset and transforms (through ``factory.build_dataset``), the real
engine; only the network is a tiny stand-in that records what it is fed.
"""

from __future__ import annotations

from pathlib import Path

import engine_tiny as tiny
import pandas as pd
import pytest
import torch
from torchvision.io import encode_jpeg

from actionbench.data.dataset import frame_path
from actionbench.engine import factory
from actionbench.engine.evaluate import device_transform, evaluate
from actionbench.engine.train import train
from actionbench.errors import ModelError
from actionbench.models import BACKBONES, input_normalization
from actionbench.models.networks.inception import VideoInceptionV1
from actionbench.models.networks.inception3d import InceptionV1_3d
from actionbench.models.weights.normalization import IMAGENET_MEAN, IMAGENET_STD

NO_TRACKING = {"experiment": "norm", "enabled": False}


def test_every_backbone_declares_its_normalisation_once():
    assert input_normalization("inceptionv1") == ((0.5,) * 3, (0.5,) * 3)
    for backbone in ("resnet18", "resnet50", "resnet101"):
        assert input_normalization(backbone) == (IMAGENET_MEAN, IMAGENET_STD)
    assert all(len(input_normalization(b)[1]) == 3 for b in BACKBONES)  # none is missing
    with pytest.raises(ModelError, match="no input normalisation declared for backbone 'vgg'"):
        input_normalization("vgg")
    for model in (VideoInceptionV1, InceptionV1_3d):  # the models' attributes are the table's
        assert (model.input_mean, model.input_std) == input_normalization("inceptionv1")


def write_lists(root: Path, videos: int = 8, frames: int = 3) -> tuple[str, str]:
    gen = torch.Generator().manual_seed(0)
    rows = []
    for v in range(videos):
        folder = root / "frames" / f"v{v}"
        folder.mkdir(parents=True)
        for i in range(frames):
            image = torch.randint(0, 256, (3, 36, 44), dtype=torch.uint8, generator=gen)
            frame_path(folder, i).write_bytes(encode_jpeg(image, quality=95).numpy().tobytes())
        rows.append([f"v{v}", str(folder), frames, v % 3, f"class {v % 3}"])
    table = pd.DataFrame(
        rows, columns=["video_id", "frames_dir", "num_frames", "label", "label_name"]
    )
    table.to_csv(root / "train.csv", index=False)
    table.to_csv(root / "val.csv", index=False)
    return str(root / "train.csv"), str(root / "val.csv")


class Recorder(tiny.TinyNet):
    """TinyNet that keeps every input it sees."""

    seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        Recorder.seen.append(x.detach().clone())
        return super().forward(x)


def pixels(batch: torch.Tensor, backbone: str) -> torch.Tensor:
    """Undo ``backbone``'s normalisation: back to 0..255 pixel values."""
    mean, std = (torch.tensor(v).view(3, 1, 1, 1) for v in input_normalization(backbone))
    return (batch * std + mean) * 255.0


@pytest.mark.parametrize("backbone", ["inceptionv1", "resnet18"])
def test_train_and_eval_feed_the_backbones_normalisation(tmp_path, monkeypatch, backbone):
    train_list, val_list = write_lists(tmp_path)
    cfg = tiny.make_cfg(tmp_path, tracking=NO_TRACKING)
    cfg.update(backbone=backbone, frames=2)
    cfg["data"].update(train_list=train_list, val_list=val_list, input_size=24, scale_size=28)
    cfg["schedule"].update(epochs=1)
    cfg["optim"].update(batch_size=4, base_batch_size=4)
    cfg["eval"].update(num_clips=2, num_crops=3)
    monkeypatch.setattr(factory, "build_model", lambda c, pretrained=None: Recorder())
    Recorder.seen = []
    train(cfg)
    evaluate(cfg)
    assert len(Recorder.seen) >= 4  # training steps, validation, clip- and video-level eval
    for batch in Recorder.seen:
        assert batch.dtype == torch.float32 and batch.shape[1:3] == (3, 2)
        values = pixels(batch, backbone)
        # Exactly the normalised uint8 pixels, nothing else: integers in 0..255.
        assert values.min() > -1e-3 and values.max() < 255 + 1e-3
        assert (values - values.round()).abs().max() < 1e-3
    if backbone == "inceptionv1":  # mean = std = 0.5: inputs span [-1, 1]
        assert min(b.min() for b in Recorder.seen) >= -1.0 - 1e-6
        assert max(b.max() for b in Recorder.seen) <= 1.0 + 1e-6
        assert min(b.min() for b in Recorder.seen) < -0.9  # random pixels reach dark values
    else:  # ImageNet statistics: black is about -2.1, white about +2.6
        assert min(b.min() for b in Recorder.seen) < -1.5
        assert max(b.max() for b in Recorder.seen) > 2.0


@pytest.mark.parametrize("backbone", ["inceptionv1", "resnet50"])
@pytest.mark.parametrize("train_mode", [True, False])
def test_factory_datasets_carry_the_backbones_normalisation(tmp_path, backbone, train_mode):
    train_list, val_list = write_lists(tmp_path, videos=2)
    cfg = tiny.make_cfg(tmp_path)
    cfg.update(backbone=backbone, frames=2)
    cfg["data"].update(train_list=train_list, val_list=val_list, input_size=24, scale_size=28)
    split = "train" if train_mode else "val"
    ds = factory.build_dataset(cfg, split, train=train_mode)
    torch.manual_seed(0)
    clip = ds[0][0]
    assert clip.dtype == torch.uint8
    out = device_transform(ds)(clip[None])[0]
    mean, std = (torch.tensor(v).view(3, 1, 1, 1) for v in input_normalization(backbone))
    assert torch.allclose(out, (clip.float() / 255.0 - mean) / std, atol=1e-6)
