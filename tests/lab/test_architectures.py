import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.lab.experiments.architectures import (
    baseline_iou,
    densenet_params,
    hooked_shapes,
    lenet5_params,
    resnet_params,
    stage_shapes_and_counts,
    unet_params,
)
from shenjing.nn.architectures import DenseNet, LeNet5, ResNet, UNet
from shenjing.nn.utils import count_parameters


def test_lenet5_has_the_documented_61706_parameters():
    assert lenet5_params() == count_parameters(LeNet5()) == 156 + 2416 + 48120 + 10164 + 850


@pytest.mark.parametrize("c_in,width,blocks,classes", [(1, 16, (2, 2, 2), 10), (3, 8, (1, 3), 5), (1, 4, (3,), 2)])
def test_resnet_closed_form(c_in, width, blocks, classes):
    assert resnet_params(c_in, width, blocks, classes) == count_parameters(ResNet(classes, c_in, width=width, blocks=blocks))


@pytest.mark.parametrize("c_in,growth,blocks,classes", [(1, 12, (4, 4, 4), 10), (3, 6, (2, 5), 7), (1, 5, (3, 3, 2, 1), 2)])
def test_densenet_closed_form(c_in, growth, blocks, classes):
    assert densenet_params(c_in, growth, blocks, classes) == count_parameters(DenseNet(classes, c_in, growth=growth, blocks=blocks))


@pytest.mark.parametrize("c_in,classes,depth,width", [(1, 3, 3, 16), (3, 2, 1, 4), (1, 5, 4, 8)])
def test_unet_closed_form(c_in, classes, depth, width):
    assert unet_params(c_in, classes, depth, width) == count_parameters(UNet(c_in, classes, depth=depth, width=width))


def test_majority_class_baseline_iou():
    y = np.zeros((2, 4, 4), np.int64)
    y[0, :2, :2] = 1  # 4 circle pixels
    y[1, 0, :] = 2  # 4 rectangle pixels: 24 of 32 pixels are background
    iou, major = baseline_iou(y)
    assert major == 0 and iou == pytest.approx((24 / 32 + 0 + 0) / 3)


def test_hooked_shapes_reports_every_named_stage():
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 3 * 3, 4))
    shapes = hooked_shapes(net, ["0", "2", "3"], sj.randn(5, 1, 8, 8))
    assert shapes == {"0": (5, 3, 6, 6), "2": (5, 3, 3, 3), "3": (5, 27), "output": (5, 4)}


def test_every_stage_has_the_designed_shape_and_the_three_counts_agree():
    sj.manual_seed(0)
    shapes, expected, counts = stage_shapes_and_counts(sj.Generator().manual_seed(0))
    assert set(shapes) == set(expected) == set(counts) == {"LeNet-5", "ResNet-14", "DenseNet", "U-Net"}
    assert [(n, k) for n in shapes for k in expected[n] if tuple(shapes[n][k]) != expected[n][k]] == []
    assert expected["DenseNet"]["features.block1.3"] == (2, 24 + 4 * 12, 32, 32)  # k0 + l·k
    assert expected["U-Net"]["downs.2"] == (2, 128, 4, 4) and expected["U-Net"]["output"] == (2, 3, 32, 32)
    assert all(c["count"] == c["per_layer_formula"] == c["closed_form"] for c in counts.values())
    assert counts["LeNet-5"]["count"] == 61706
