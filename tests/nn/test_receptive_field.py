"""Receptive fields (感受野, Wang 七.1) and conv parameter counts C_i·C_o·K² + C_o (Fang ch. 7)."""

import numpy as np
import pytest
import torch

import shenjing as sj
import shenjing.nn as nn
from shenjing.nn.utils import (
    check_parameter_counts,
    conv_output_size,
    conv_parameters,
    count_parameters,
    format_receptive_field,
    layer_specs,
    parameter_formula,
    receptive_field,
)


def test_three_3x3_convolutions_see_7_pixels():
    rows = receptive_field([3, 3, 3], input_size=28)
    assert [r.rf for r in rows] == [3, 5, 7]
    assert [r.jump for r in rows] == [1, 1, 1]
    assert [r.out_size for r in rows] == [26, 24, 22]
    assert [r.start for r in rows] == [1, 2, 3]  # centre of the first unit's field: (r − 1)/2 without padding


def test_conv_pool_conv_sees_8_pixels():
    rows = receptive_field([(3, 1, 1), (2, 2), (3, 1, 1)], input_size=28)
    assert [r.rf for r in rows] == [3, 4, 8]
    assert [r.jump for r in rows] == [1, 2, 2]
    assert [r.out_size for r in rows] == [28, 14, 14]
    assert rows[-1].start == 0.5


def test_textbook_stacks():
    # dilation: k̂ = d(k − 1) + 1, so a 3×3 kernel of dilation 2 sees 5, a second one of dilation 4 reaches 13
    assert receptive_field([(3, 1, 0, 2), (3, 1, 0, 4)])[-1].rf == 13
    # AlexNet's first layers: conv 11/4 → pool 3/2 → conv 5 (pad 2) → pool 3/2
    rows = receptive_field([(11, 4, 2), (3, 2), (5, 1, 2), (3, 2)], input_size=224)
    assert [r.rf for r in rows] == [11, 19, 51, 67]
    assert [r.out_size for r in rows] == [55, 27, 27, 13]
    # the LeNet-5 feature extractor on 28×28: conv5 pad 2, pool 2, conv5, pool 2 → 16 pixels, 5×5 maps
    rows = receptive_field([(5, 1, 2), (2, 2), (5, 1, 0), (2, 2)], input_size=28)
    assert [r.rf for r in rows] == [5, 6, 14, 16] and rows[-1].out_size == 5 and rows[-1].jump == 4


def test_same_valid_tuples_and_dicts():
    rows = receptive_field([{"kernel_size": 3, "padding": "same", "dilation": 2}, {"kernel": 3, "padding": "valid"}], 10)
    assert [r.out_size for r in rows] == [10, 8] and [r.rf for r in rows] == [5, 7]
    rows = receptive_field([((3, 5), 1, (1, 2)), ((2, 2), 2)], input_size=(28, 30))
    assert rows[-1].rf == (4, 6) and rows[-1].out_size == (14, 15) and rows[-1].jump == (2, 2)
    with pytest.raises(ValueError, match="stride 1"):
        receptive_field([{"kernel": 3, "stride": 2, "padding": "same"}])
    with pytest.raises(ValueError, match="larger than"):
        receptive_field([7], input_size=5)
    assert "RF" in format_receptive_field(rows)


@pytest.mark.parametrize("case", range(40))  # 40 random (kernel, stride, dilation, padding, length) cases
def test_output_size_equals_torch(case, rng):
    k, s, d = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
    p = int(rng.integers(0, k // 2 + 1))
    n = int(rng.integers(d * (k - 1) + 1, 30))
    x = torch.zeros(1, 1, n)
    assert conv_output_size(n, k, s, p, d) == torch.nn.functional.conv1d(x, torch.zeros(1, 1, k), stride=s, padding=p, dilation=d).shape[-1]
    ceil = torch.nn.functional.max_pool1d(x, k, s, p, d, ceil_mode=True).shape[-1]
    assert conv_output_size(n, k, s, p, d, ceil_mode=True) == ceil


def test_walks_a_sequential_of_conv_and_pool_modules():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU()), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(4, 2))
    specs = layer_specs(net)
    assert [s["name"] for s in specs] == ["0", "3", "4.0", "5"]
    rows = receptive_field(net, input_size=28)
    assert [r.rf for r in rows] == [(3, 3), (4, 4), (8, 8), (34, 34)]
    assert rows[-1].out_size == (1, 1)
    with pytest.raises(ValueError, match="input_size"):
        receptive_field(net)
    with pytest.raises(ValueError, match="not a conv/pool"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.ConvTranspose2d(1, 1, 2, stride=2)))


def test_receptive_field_is_the_support_of_the_input_gradient():
    """Empirical check: with positive weights and average pooling, the input pixels that move one
    output unit (non-zero ∂y/∂x) form exactly an r × r square starting at c − (r − 1)/2."""
    net = nn.Sequential(nn.Conv2d(1, 1, 3, bias=False), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3, dilation=2, bias=False),
                        nn.AvgPool2d(2, stride=1), nn.Conv2d(1, 1, 3, stride=2, bias=False))
    for m in net:
        if isinstance(m, nn.Conv2d):
            nn.init.ones_(m.weight)
    rows = receptive_field(net, input_size=40)
    r, c, j = rows[-1].rf[0], rows[-1].start[0], rows[-1].jump[0]
    x = sj.zeros(1, 1, 40, 40, requires_grad=True)
    y = net(x)
    assert tuple(y.shape[2:]) == rows[-1].out_size
    y[0, 0, 1, 1].backward()
    rows_nz, cols_nz = np.nonzero(x.grad.numpy()[0, 0])
    assert rows_nz.max() - rows_nz.min() + 1 == r and cols_nz.max() - cols_nz.min() + 1 == r
    assert rows_nz.min() == c + j - (r - 1) / 2  # unit 1 is one jump right of the first unit


def test_conv_parameter_formula():
    assert conv_parameters(3, 64, 3) == 3 * 64 * 9 + 64
    assert conv_parameters(16, 32, 1, bias=False) == 16 * 32
    assert conv_parameters(8, 16, (3, 5), groups=4) == 2 * 16 * 15 + 16
    for args, kw in [((3, 64, 3), {}), ((6, 16, 5), {}), ((16, 32, 1), {"bias": False}), ((8, 16, (3, 5)), {"groups": 4}),
                     ((4, 8, 3), {"stride": 2, "padding": 1, "dilation": 2})]:
        s, t = nn.Conv2d(*args, **kw), torch.nn.Conv2d(*args, **kw)
        assert count_parameters(s) == sum(p.numel() for p in t.parameters()) == parameter_formula(s)
        assert parameter_formula(s) == conv_parameters(*args, bias=kw.get("bias", True), groups=kw.get("groups", 1))
    assert parameter_formula(nn.ConvTranspose2d(4, 6, 2, stride=2)) == count_parameters(nn.ConvTranspose2d(4, 6, 2, stride=2))


def test_parameter_counts_of_a_whole_network():
    net = nn.LeNet5()
    rows = check_parameter_counts(net)
    assert rows[-1]["formula"] == rows[-1]["actual"] == count_parameters(net) == 61706
    assert [r["formula"] for r in rows[:2]] == [1 * 6 * 25 + 6, 6 * 16 * 25 + 16]
    net = nn.ResNet(10, width=8, depth=8)
    rows = check_parameter_counts(net)
    assert rows[-1]["formula"] == rows[-1]["actual"] == count_parameters(net)
