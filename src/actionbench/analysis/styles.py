"""One colour and one marker per model, the same in every figure of a report.

A *model* is (arch, backbone, temporal pooling): TSN-ResNet18 f8 and f16 are one model at two
stages of progressive training. Each model gets one colour (a qualitative palette, in the
report's model order) and one marker (its backbone); the frame count of a run only varies the
lightness of that colour (fewer frames: lighter) or, for curves, the line style. Built once from
the results, passed to every figure, and written next to each figure (``<stem>.styles.json``)
so the HTML can carry it as metadata and a reader (or a test) can check that a model looks the
same everywhere.
"""

from __future__ import annotations

import colorsys
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import to_hex, to_rgb

from actionbench.analysis.tables import arch_key, backbone_key, model_label

BACKBONE_MARKERS = {"inceptionv1": "s", "resnet18": "o", "resnet50": "^", "resnet101": "D"}
FRAME_LINESTYLES = ("-", "--", "-.", ":")  # most frames first


ModelKey = tuple[str, str, bool]


@dataclass(frozen=True)
class Style:
    label: str
    color: str  # hex, the model's full colour
    marker: str


def _palette(n: int) -> list[str]:
    if n <= 10:
        return [to_hex(c) for c in colormaps["tab10"].colors[:n]]
    if n <= 20:
        return [to_hex(c) for c in colormaps["tab20"].colors[:n]]
    # beyond 20 models: evenly spaced hues at two lightness levels
    out = []
    for i in range(n):
        hue = (i * 0.618033988749895) % 1.0
        light = 0.42 if i % 2 == 0 else 0.6
        out.append(to_hex(colorsys.hls_to_rgb(hue, light, 0.75)))
    return out


def lighten(color: str, amount: float) -> str:
    """``color`` mixed with white (0: unchanged, 1: white)."""
    r, g, b = to_rgb(color)
    return to_hex((r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount))


class Styles:
    """Model -> Style, and run id -> (model, frames), for one report."""

    def __init__(self, results: pd.DataFrame) -> None:
        cols = ["run_id", "arch", "backbone", "tp", "frames"]
        rows = results[cols] if set(cols) <= set(results.columns) else pd.DataFrame(columns=cols)
        keys = sorted(
            {self.key(r.arch, r.backbone, r.tp) for r in rows.itertuples()},
            key=lambda k: (backbone_key(k[1]), arch_key(k[0]), k[2]),
        )
        colors = _palette(len(keys))
        self.models: dict[ModelKey, Style] = {
            k: Style(model_label(*k), c, BACKBONE_MARKERS.get(k[1], "o"))
            for k, c in zip(keys, colors, strict=True)
        }
        self.runs: dict[str, tuple[ModelKey, int]] = {
            r.run_id: (self.key(r.arch, r.backbone, r.tp), int(r.frames)) for r in rows.itertuples()
        }
        self.frames = sorted({f for _, f in self.runs.values()})

    @staticmethod
    def key(arch, backbone, tp) -> ModelKey:
        return (str(arch), str(backbone), bool(tp))

    def model(self, arch, backbone, tp) -> Style:
        key = self.key(arch, backbone, tp)
        if key not in self.models:  # a model only in profile data: still one fixed style
            extra = _palette(len(self.models) + 1)[-1]
            self.models[key] = Style(model_label(*key), extra, BACKBONE_MARKERS.get(key[1], "o"))
        return self.models[key]

    def shade(self, style: Style, frames) -> str:
        """The model's colour at ``frames``: the most frames of the report in full colour."""
        if frames is None or pd.isna(frames) or not self.frames or int(frames) not in self.frames:
            return style.color
        rank = len(self.frames) - 1 - self.frames.index(int(frames))  # 0 = most frames
        return lighten(style.color, min(0.6, 0.22 * rank))

    def linestyle(self, frames) -> str:
        if frames is None or pd.isna(frames) or int(frames) not in self.frames:
            return "-"
        rank = len(self.frames) - 1 - self.frames.index(int(frames))
        return FRAME_LINESTYLES[min(rank, len(FRAME_LINESTYLES) - 1)]

    def run(self, run_id: str) -> tuple[Style, int | None]:
        key, frames = self.runs.get(run_id, (None, None))
        if key is None:
            return Style(run_id, "#555555", "o"), None
        return self.models[key], frames


class Used:
    """The models one figure draws (for its metadata): label -> colour and marker."""

    def __init__(self) -> None:
        self.models: dict[str, dict[str, str]] = {}

    def add(self, style: Style) -> Style:
        self.models[style.label] = {"color": style.color, "marker": style.marker}
        return style

    def write(self, png: Path | None) -> Path | None:
        """Write ``<stem>.styles.json`` next to a saved figure (nothing when not drawn)."""
        if png is None:
            return None
        path = png.with_name(f"{png.stem}.styles.json")
        path.write_text(json.dumps({"models": self.models}, sort_keys=True))
        return png


def read_used(png: Path) -> dict[str, dict[str, str]]:
    """The models (label -> colour, marker) a saved figure declares; {} for figures of none."""
    path = png.with_name(f"{png.stem}.styles.json")
    if not path.is_file():
        return {}
    return json.loads(path.read_text()).get("models", {})
