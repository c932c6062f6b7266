from dataclasses import replace

import numpy as np
import pytest

import shenjing as sj
from shenjing.lab.experiments.convolution import (
    NG_IMAGE,
    NG_OUTPUT,
    STEP_EDGE_ONLY,
    STEP_IMAGE,
    STEP_OUTPUT,
    VERTICAL_EDGE,
    WANG_W,
    WANG_X,
    WANG_Y,
    compare_receptive_fields,
    conv,
    gradient_support,
    output_size,
    pad_by_definition,
    padding_modes,
    rf_stacks,
    shape_sweep,
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


def test_padding_modes_follow_the_definitions_and_only_zero_and_circular_add_border_edges():
    pad = padding_modes()
    assert all(pad["pad_ok"].values()) and all(pad["conv_ok"].values())
    edge_only = np.array(STEP_EDGE_ONLY, dtype=float)
    for mode in ("reflect", "replicate"):
        np.testing.assert_array_equal(pad["responses"][mode], edge_only)
    for mode in ("zeros", "circular"):  # a spurious edge of −30 at the left border (dark outside the bright left side)
        assert pad["responses"][mode][:, 0].min() == -30


def test_output_size_sweep_agrees_and_skips_invalid_configs():
    rows = shape_sweep(range(3, 6), (1, 3), (1, 2), (0, 1), (1, 2))
    assert rows and all(r["measured"] == r["formula"] == r["tool"] for r in rows)
    assert not any(r["n"] + 2 * r["p"] - r["d"] * (r["k"] - 1) - 1 < 0 for r in rows)
    assert {r["op"] for r in rows} == {"conv2d", "max_pool2d"}


def test_receptive_field_comparison_counts_each_kind_of_disagreement():
    sj.manual_seed(0)
    net = rf_stacks(1)["3×3 convs"].double()[:3]
    theory = {"net": receptive_field(net, input_size=40)}
    emp = {"net": gradient_support(net, 40, 1, sj.Generator().manual_seed(0))}
    rows, counts, mismatches = compare_receptive_fields(theory, emp)
    assert counts == {"extent": 0, "centre": 0, "output_size": 0, "support_touches_border": 0} and mismatches == []
    assert [r["rf_measured"] for r in rows["net"]] == [(3, 3), (5, 5), (7, 7)]
    wrong = {"net": [replace(theory["net"][0], rf=(5, 5)), replace(theory["net"][1], out_size=(39, 39)), theory["net"][2]]}
    _, counts, mismatches = compare_receptive_fields(wrong, emp)
    assert counts == {"extent": 1, "centre": 0, "output_size": 1, "support_touches_border": 0}
    assert [layer for _, layer in mismatches] == [theory["net"][0].name, theory["net"][1].name]
