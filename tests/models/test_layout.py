"""``layout``: the reference code's model layout (default) against section E's text (``paper``).

The published table of the reference code (its benchmark of the 288-model mini-dataset study:
12 models x tp on/off x 8/16/32/64 frames x 87 or 200 classes = 192 distinct configurations)
is reproduced exactly by the ``reference`` layout: every parameter count, and every FLOP count
once the classifier is taken out (the table counts convolutions only). Five rows are not
what the released code computes; ``test_published_i3d_inception_rows_off_by_one_frame`` pins
why.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from actionbench.errors import ModelError
from actionbench.measure.profiling import count_macs, profile_model
from actionbench.models import build_model
from actionbench.models.temporal.modules import TAM, TemporalConv

# (arch, backbone): published parameters with 87 (Mini-SSV2) and 200 (Mini-Kinetics/MiT) classes
PUBLISHED_PARAMS = {
    ("tsn", "inceptionv1"): (5_689_079, 5_804_904),
    ("tsn", "resnet18"): (11_221_143, 11_279_112),
    ("tsn", "resnet50"): (23_686_295, 23_917_832),
    ("tam", "inceptionv1"): (5_706_503, 5_822_328),
    ("tam", "resnet18"): (11_225_559, 11_283_528),
    ("tam", "resnet50"): (23_725_655, 23_957_192),
    ("i3d", "inceptionv1"): (12_376_439, 12_492_264),
    ("i3d", "resnet18"): (33_210_903, 33_268_872),
    ("i3d", "resnet50"): (46_339_607, 46_571_144),
    ("s3d", "inceptionv1"): (7_992_503, 8_108_328),
    ("s3d", "resnet18"): (15_425_559, 15_483_528),
    ("s3d", "resnet50"): (27_485_079, 27_716_616),
}
# (arch, backbone, tp): published multiply-adds for 8, 16, 32, 64 frames (224 px, no classifier)
PUBLISHED_MACS = {
    ("tsn", "inceptionv1", False): (11_978_817_536, 23_957_635_072, 47_915_270_144, 95_830_540_288),
    ("tsn", "inceptionv1", True): (6_521_725_952, 13_043_451_904, 26_086_903_808, 52_173_807_616),
    ("tsn", "resnet18", False): (14_508_490_752, 29_016_981_504, 58_033_963_008, 116_067_926_016),
    ("tsn", "resnet18", True): (7_520_780_288, 15_041_560_576, 30_083_121_152, 60_166_242_304),
    ("tsn", "resnet50", False): (32_697_090_048, 65_394_180_096, 130_788_360_192, 261_576_720_384),
    ("tsn", "resnet50", True): (14_135_984_128, 28_271_968_256, 56_543_936_512, 113_087_873_024),
    ("tam", "inceptionv1", False): (12_047_006_720, 24_094_013_440, 48_188_026_880, 96_376_053_760),
    ("tam", "inceptionv1", True): (6_570_863_936, 13_141_727_872, 26_283_455_744, 52_566_911_488),
    ("tam", "resnet18", False): (14_530_768_896, 29_061_537_792, 58_123_075_584, 116_246_151_168),
    ("tam", "resnet18", True): (7_535_155_712, 15_070_311_424, 30_140_622_848, 60_281_245_696),
    ("tam", "resnet50", False): (32_831_963_136, 65_663_926_272, 131_327_852_544, 262_655_705_088),
    ("tam", "resnet50", True): (14_213_054_464, 28_426_108_928, 56_852_217_856, 113_704_435_712),
    ("i3d", "inceptionv1", False): (
        33_573_614_592,
        67_380_196_352,
        135_226_327_040,
        270_452_654_080,
    ),
    ("i3d", "inceptionv1", True): (21_411_353_600, 42_822_707_200, 85_645_414_400, 171_290_828_800),
    ("i3d", "resnet18", False): (43_217_190_912, 86_434_381_824, 172_868_763_648, 345_737_527_296),
    ("i3d", "resnet18", True): (22_472_425_472, 44_944_850_944, 89_889_701_888, 179_779_403_776),
    ("i3d", "resnet50", False): (64_180_322_304, 128_360_644_608, 256_721_289_216, 513_442_578_432),
    ("i3d", "resnet50", True): (29_460_135_936, 58_920_271_872, 117_840_543_744, 235_681_087_488),
    ("s3d", "inceptionv1", False): (
        19_778_626_560,
        39_712_547_840,
        79_580_390_400,
        159_316_075_520,
    ),
    ("s3d", "inceptionv1", True): (12_264_670_208, 24_529_340_416, 49_058_680_832, 98_117_361_664),
    ("s3d", "resnet18", False): (21_329_215_488, 42_658_430_976, 85_316_861_952, 170_633_723_904),
    ("s3d", "resnet18", True): (12_125_732_864, 24_251_465_728, 48_502_931_456, 97_005_862_912),
    ("s3d", "resnet50", False): (39_517_814_784, 79_035_629_568, 158_071_259_136, 316_142_518_272),
    ("s3d", "resnet50", True): (19_672_203_264, 39_344_406_528, 78_688_813_056, 157_377_626_112),
}
FRAMES = (8, 16, 32, 64)
# rows whose published FLOPs are not the released code's (see the test below); the Mini-SSV2
# table also lists I3D-InceptionV1 f32 as 134,993,359,872, one such frame less than the others
OFF_BY_ONE_FRAME = {("i3d", "inceptionv1", False, 8), ("i3d", "inceptionv1", False, 16)}


def _conv_macs(arch: str, backbone: str, tp: bool, frames: int, classes: int) -> tuple[int, int]:
    r = profile_model(arch, backbone, frames, classes, tp)  # layout defaults to reference
    assert r["layout"] == "reference"
    return r["params"], round((r["gflops"] - r["classifier_gflops"]) * 1e9)


def _published_cases(frames: tuple[int, ...]):
    for (arch, backbone, tp), macs in PUBLISHED_MACS.items():
        for f in frames:
            if (arch, backbone, tp, f) not in OFF_BY_ONE_FRAME:
                yield pytest.param(
                    arch,
                    backbone,
                    tp,
                    f,
                    macs[FRAMES.index(f)],
                    id=f"{arch}-{backbone}-tp{int(tp)}-f{f}",
                )


@pytest.mark.parametrize(("arch", "backbone", "tp", "frames", "macs"), list(_published_cases((8,))))
def test_reference_layout_matches_published_table_f8(arch, backbone, tp, frames, macs) -> None:
    for classes, params in zip((87, 200), PUBLISHED_PARAMS[(arch, backbone)], strict=True):
        assert _conv_macs(arch, backbone, tp, frames, classes) == (params, macs)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arch", "backbone", "tp", "frames", "macs"), list(_published_cases((16, 32, 64)))
)
def test_reference_layout_matches_published_table(arch, backbone, tp, frames, macs) -> None:
    for classes, params in zip((87, 200), PUBLISHED_PARAMS[(arch, backbone)], strict=True):
        assert _conv_macs(arch, backbone, tp, frames, classes) == (params, macs)


def test_published_i3d_inception_rows_off_by_one_frame() -> None:
    """I3D-InceptionV1 without -tp at f8/f16: the published FLOPs are ours minus exactly one
    frame of ``inception5a`` + ``inception5b`` (as if pool4 dropped a time step, as S3D's
    2x2x2 pool4 does). The released I3D keeps every frame (3x3x3 pool4, padding 1), and its
    f32 (Mini-Kinetics/MiT) and f64 rows match ours exactly."""
    with torch.device("meta"):
        model = build_model("i3d", "inceptionv1", 8, 87)
        tail = nn.Sequential(model.inception5a, model.inception5b)
        one_frame = count_macs(tail, torch.empty(1, 832, 1, 7, 7))
    assert one_frame == 232_967_168
    for f in (8, 16):
        published = PUBLISHED_MACS[("i3d", "inceptionv1", False)][FRAMES.index(f)]
        assert _conv_macs("i3d", "inceptionv1", False, f, 87)[1] - published == one_frame


def test_time_strided_resnet_cost_from_layer_shapes() -> None:
    """I3D-ResNet50-tp, f8: the reference strides conv2 (and the downsample) of the first
    block of layer2-4 in time, so that block's 1x1x1 conv1 runs on twice the frames the paper
    layout's pooled input has: sum over the stages of C_in * width * H * W * T_in / 2."""
    extra = (
        256 * 128 * 56 * 56 * 8 // 2 + 512 * 256 * 28 * 28 * 4 // 2 + 1024 * 512 * 14 * 14 * 2 // 2
    )
    ref = profile_model("i3d", "resnet50", 8, 87, True)
    paper = profile_model("i3d", "resnet50", 8, 87, True, layout="paper")
    assert ref["params"] == paper["params"]
    assert round((ref["gflops"] - paper["gflops"]) * 1e9) == extra == 719_323_136


@pytest.mark.parametrize(
    ("arch", "backbone", "tp"),
    [("i3d", "inceptionv1", False), ("s3d", "inceptionv1", False), ("s3d", "inceptionv1", True)],
)
def test_inception3d_reference_pools(arch: str, backbone: str, tp: bool) -> None:
    model = build_model(arch, backbone, 8, 5, tp, layout="reference")
    t = 2 if tp else 1
    for name in ("maxpool2", "maxpool3"):
        pool = getattr(model, name)
        assert (pool.kernel_size, pool.stride, pool.padding, pool.ceil_mode) == (
            3,
            (t, 2, 2),
            1,
            False,
        )
    pool4 = model.maxpool4
    want4 = (3, (t, 2, 2), 1) if arch == "i3d" else (2, (t, 2, 2), 0)
    assert (pool4.kernel_size, pool4.stride, pool4.padding, pool4.ceil_mode) == (*want4, False)
    assert (model.maxpool1.padding, model.maxpool1.ceil_mode) == ((0, 1, 1), False)
    with torch.device("meta"):
        steps = model.to("meta").feature_map(torch.empty(1, 3, 8, 224, 224)).shape[2]
    # -tp: 8 -> 4 -> 2 -> 1; S3D's 2x2x2 pool4 drops one step without -tp
    assert steps == (1 if tp else 8 - (arch == "s3d"))


def test_inception3d_reference_pool_spans_three_frames() -> None:
    """Without temporal pooling the reference's pools still take a max over 3 frames: a
    feature in one frame reaches its neighbours after maxpool2; the paper's pools stay in-frame."""
    x = torch.zeros(1, 1, 5, 8, 8)
    x[:, :, 2, 3, 3] = 1.0
    ref = build_model("i3d", "inceptionv1", 5, 3, layout="reference").maxpool2(x)
    paper = build_model("i3d", "inceptionv1", 5, 3, layout="paper").maxpool2(x)
    assert ref.amax(dim=(0, 1, 3, 4)).tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert paper.amax(dim=(0, 1, 3, 4)).tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("arch", "backbone", "strided"),
    [
        ("i3d", "resnet18", ["conv1"]),
        ("i3d", "resnet50", ["conv2"]),
        ("s3d", "resnet18", ["conv1_t"]),
        ("s3d", "resnet50", ["conv2_t"]),
    ],
)
def test_resnet3d_reference_strides_time(arch: str, backbone: str, strided: list[str]) -> None:
    ref = build_model(arch, backbone, 8, 5, True, layout="reference")
    paper = build_model(arch, backbone, 8, 5, True, layout="paper")
    for layer in ("layer2", "layer3", "layer4"):
        block = getattr(ref, layer)[0]
        for name, conv in block.named_modules():
            if isinstance(conv, nn.Conv3d):
                time_stride = conv.stride[0]
                assert time_stride == (2 if name in [*strided, "downsample.0"] else 1), name
        assert all(
            m.stride[0] == 1 for m in getattr(paper, layer).modules() if isinstance(m, nn.Conv3d)
        )
    assert all(isinstance(getattr(ref, f"tpool{i}"), nn.Identity) for i in (1, 2, 3))
    assert isinstance(paper.tpool1, nn.MaxPool3d)
    with torch.device("meta"):
        steps = ref.to("meta").feature_map(torch.empty(1, 3, 8, 64, 64)).shape[2]
    assert steps == 1


def _record_dropout_inputs(model: nn.Module) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    model.dropout.register_forward_hook(lambda m, i, o: shapes.append(tuple(i[0].shape)))
    return shapes


@pytest.mark.parametrize(("arch", "backbone"), [("i3d", "resnet18"), ("s3d", "inceptionv1")])
def test_reference_3d_dropout_per_time_step(arch: str, backbone: str) -> None:
    """Reference: dropout (and fc) on every time step, logits averaged; paper: once per clip.
    In evaluation both are the same function on the same weights."""
    torch.manual_seed(0)
    ref = build_model(arch, backbone, 4, 3, dropout=0.5, layout="reference")
    paper = build_model(arch, backbone, 4, 3, dropout=0.5, layout="paper")
    clip = torch.randn(2, 3, 4, 32, 32)
    ref_shapes, paper_shapes = _record_dropout_inputs(ref), _record_dropout_inputs(paper)
    ref.train()(clip)
    paper.train()(clip)
    steps = 4 - (arch == "s3d")  # S3D's reference pool4 drops one time step
    assert ref_shapes == [(2, steps, ref.num_features)]
    assert paper_shapes == [(2, paper.num_features)]
    if arch == "i3d":  # same network: identical eval logits
        paper.load_state_dict(ref.state_dict())
        torch.testing.assert_close(ref.eval()(clip), paper.eval()(clip), rtol=1e-5, atol=1e-6)


def test_reference_3d_classifier_init() -> None:
    torch.manual_seed(0)
    fc = build_model("i3d", "resnet50", 8, 400, layout="reference").fc
    assert fc.bias.abs().max() == 0
    assert fc.weight.std().item() == pytest.approx(0.001, rel=0.02)
    assert build_model("i3d", "resnet50", 8, 400, layout="paper").fc.weight.std() > 0.005


def test_tam_init_on_resnet_is_kaiming_fan_out() -> None:
    """The reference's ResNet init loop re-initialises TAM's depthwise 1x1 convs (and the dense
    variant's) like every conv: N(0, 2 / fan_out), fan_out = C. Paper layout: U(-1, 1)."""
    torch.manual_seed(0)
    for arch in ("tam", "tconv"):
        model = build_model(arch, "resnet18", 8, 5, layout="reference")
        mods = [m for m in model.modules() if isinstance(m, TAM | TemporalConv)]
        z = torch.cat([(m.weight / (2.0 / m.channels) ** 0.5).flatten() for m in mods])
        assert z.std().item() == pytest.approx(1.0, abs=0.05), arch
        assert z.abs().max() > 2.5  # a normal, not a bounded uniform
    paper = build_model("tam", "resnet18", 8, 5, layout="paper")
    w = torch.cat([m.weight.flatten() for m in paper.modules() if isinstance(m, TAM)])
    assert w.abs().max() <= 1.0 and w.std().item() == pytest.approx(3**-0.5, rel=0.05)


def test_inception2d_reference_keeps_pytorch_default_init() -> None:
    """The reference's 2D GoogLeNet never calls its init method: PyTorch's defaults (conv1:
    U(+-1/sqrt(3*49)), std 0.048) where the paper layout uses torchvision's (std 0.01); TAM
    stays U(-1, 1), the dense temporal conv's taps U(+-1/sqrt(C))."""
    torch.manual_seed(0)
    ref = build_model("tconv", "inceptionv1", 8, 5, layout="reference")
    paper = build_model("tconv", "inceptionv1", 8, 5, layout="paper")
    assert ref.conv1.conv.weight.std().item() == pytest.approx((3 * 49) ** -0.5 / 3**0.5, rel=0.05)
    assert paper.conv1.conv.weight.std().item() == pytest.approx(0.01, rel=0.1)
    tconv = ref.temporal["inception3a"]
    assert tconv.weight.abs().max() <= tconv.channels**-0.5
    assert tconv.weight.std().item() == pytest.approx(tconv.channels**-0.5 / 3**0.5, rel=0.05)
    tam = build_model("tam", "inceptionv1", 8, 5, layout="reference").temporal["conv1"]
    assert tam.weight.abs().max() <= 1.0


def test_layout_is_validated_and_recorded() -> None:
    with pytest.raises(ModelError, match="layout must be one of"):
        build_model("tsn", "resnet18", 8, 5, layout="papers")
    assert build_model("tsn", "resnet18", 8, 5).config["layout"] == "reference"
    assert build_model("tsn", "resnet18", 8, 5, layout="paper").config["layout"] == "paper"
