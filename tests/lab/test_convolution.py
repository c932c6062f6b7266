import numpy as np
import pytest

import shenjing as sj
from shenjing.lab.experiments.convolution import (
    NG_IMAGE,
    NG_OUTPUT,
    STEP_IMAGE,
    STEP_OUTPUT,
    VERTICAL_EDGE,
    WANG_W,
    WANG_X,
    WANG_Y,
    conv,
    gradient_support,
    output_size,
    pad_by_definition,
    rf_stacks,
)
from shenjing.nn.utils import receptive_field


def test_worked_examples_of_the_notes():
    assert conv(WANG_X, WANG_W).tolist() == WANG_Y == [[25, 31], [43, 49]]
    assert conv(NG_IMAGE, VERTICAL_EDGE).tolist() == NG_OUTPUT
    assert NG_OUTPUT[0][0] == 3 + 1 + 2 + 0 + 0 + 0 - 1 - 8 - 2  # the sum spelled out in Zhao §5
    assert conv(STEP_IMAGE, VERTICAL_EDGE).tolist() == STEP_OUTPUT


@pytest.mark.parametrize("mode,np_mode", [("zeros", "constant"), ("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_padding_definitions_agree_with_numpy(mode, np_mode):
    x = np.arange(1.0, 21.0).reshape(4, 5)
    np.testing.assert_array_equal(pad_by_definition(x, 2, mode), np.pad(x, 2, mode=np_mode))


def test_output_size_formula_examples():
    assert output_size(7, 3) == 5 and output_size(7, 3, s=2) == 3 and output_size(7, 3, d=2) == 3
    assert output_size(28, 5, p=2) == 28 and output_size(32, 2, s=2) == 16


def test_dilated_stack_receptive_field_doubles():
    sj.manual_seed(0)
    net = rf_stacks(1)["dilated 1, 2, 4, 8, 16"].double()
    rows = receptive_field(net, input_size=80)
    assert [r.rf for r in rows] == [(2 ** (l + 2) - 1,) * 2 for l in range(5)]
    emp = gradient_support(net, 80, 1, sj.Generator().manual_seed(0))
    assert [e["extent"] for e in emp] == [r.rf for r in rows]
