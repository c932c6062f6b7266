"""PyTorch's own documentation examples (the ``Example::`` blocks of its docstrings), ported verbatim with
the import changed, for the shape/indexing and linear-algebra families of the API-breadth issue.

Each example is read from the docstring of the installed torch at test time, run statement by statement
once with ``torch`` and once with ``shenjing`` in its place (``from torch import linalg`` becomes ``from
shenjing import linalg``), and the value of every expression statement is compared: tensors by shape,
dtype and values, tuples element by element, Python values by equality. ``torch.randn``/``rand`` draw
from one NumPy generator seeded alike in both runs, so the "random" examples see the same numbers.

Statements about hardware or types shenjing does not have (CUDA, complex dtypes) and plotting are
skipped, with every later statement that uses a name they set.
"""

from __future__ import annotations

import ast
import doctest
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import shenjing as sj

TORCH_FUNCTIONS = (
    "diag diagonal diag_embed trace meshgrid repeat_interleave narrow movedim swapaxes masked_select nonzero take tensor_split "
    "hsplit vsplit broadcast_to broadcast_tensors atleast_1d atleast_2d atleast_3d rot90 diff cross cdist tensordot kron bmm addmm "
    "baddbmm dist dstack cartesian_prod"
).split()
TENSOR_METHODS = "index_add_ index_copy_ index_fill_ scatter_ scatter_reduce_ masked_scatter_ unfold".split()
LINALG = "norm vector_norm matrix_norm det inv solve cholesky qr svd eigh".split()
DOCS = {**{f"torch.{n}": getattr(torch, n) for n in TORCH_FUNCTIONS}, **{f"Tensor.{n}": getattr(torch.Tensor, n) for n in TENSOR_METHODS},
        **{f"linalg.{n}": getattr(torch.linalg, n) for n in LINALG}}
#: statements left out: hardware, dtypes and libraries outside shenjing's scope
SKIP = re.compile(r"cuda|complex|plt\b|matplotlib")


class Seeded:
    """``lib`` with randn/rand drawing from a NumPy generator: the same numbers for torch and shenjing."""

    def __init__(self, lib, seed: int) -> None:
        self.lib, self.rng = lib, np.random.default_rng(seed)

    def __getattr__(self, name: str):
        return getattr(self.lib, name)

    def _make(self, values, dtype, requires_grad: bool):
        return self.lib.tensor(values, dtype=dtype or self.lib.get_default_dtype(), requires_grad=requires_grad)

    def randn(self, *size, dtype=None, requires_grad=False):
        return self._make(self.rng.standard_normal(_size(size)), dtype, requires_grad)

    def rand(self, *size, dtype=None, requires_grad=False):
        return self._make(self.rng.random(_size(size)), dtype, requires_grad)


def _size(size) -> tuple:
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def ported(source: str) -> str:
    """The import lines changed from torch to shenjing; nothing else."""
    source = re.sub(r"^(\s*)from torch\b", r"\1from shenjing", source, flags=re.M)
    return re.sub(r"^(\s*)import torch\b", r"\1import shenjing as torch", source, flags=re.M)


def statements(doc: str) -> list[str]:
    """The example statements to run, without those skipped (and the ones using what they set)."""
    tainted, out = set(), []
    for ex in doctest.DocTestParser().get_examples(doc):
        tree = ast.parse(ex.source)
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        stored |= {a.asname or a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        if SKIP.search(ex.source) or used & tainted:
            tainted |= stored
            continue
        tainted -= stored
        out.append(ex.source)
    return out


def run(lib, sources: list[str], seed: int) -> list:
    """Run the statements with ``torch`` bound to ``lib``; the value of each expression statement."""
    env = {"torch": Seeded(lib, seed)}
    values = []
    for src in sources:
        src = src if lib is torch else ported(src)
        tree = ast.parse(src)
        if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
            values.append(eval(compile(ast.Expression(tree.body[0].value), "<example>", "eval"), env))
        else:
            exec(compile(tree, "<example>", "exec"), env)
    return values


def assert_same(s, t, where: str) -> None:
    if isinstance(t, torch.Tensor):
        assert isinstance(s, sj.Tensor), f"{where}: {type(s).__name__} instead of a tensor"
        assert tuple(s.shape) == tuple(t.shape), f"{where}: shape {tuple(s.shape)} != torch {tuple(t.shape)}"
        want = t.detach().numpy()
        assert np.dtype(s.dtype) == want.dtype, f"{where}: dtype {s.dtype} != torch {t.dtype}"
        atol = 1e-5 if want.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(s.detach().numpy(), want, rtol=1e-5, atol=atol, err_msg=where)
    elif isinstance(t, (tuple, list)):
        assert isinstance(s, (tuple, list)) and len(s) == len(t), f"{where}: {s!r} vs torch {t!r}"
        for i, (a, b) in enumerate(zip(s, t)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert s == t, f"{where}: {s!r} != torch {t!r}"


@pytest.mark.parametrize("name", sorted(DOCS))
def test_documentation_example(name):
    sources = statements(DOCS[name].__doc__)
    assert sources, f"{name}: no example left to run"
    want = run(torch, sources, seed=13)
    got = run(sj, sources, seed=13)
    assert len(got) == len(want)
    for i, (s, t) in enumerate(zip(got, want)):
        assert_same(s, t, f"{name}, value {i}")


def test_examples_are_torchs_own_and_skips_are_few():
    """The examples come from torch's docstrings; only the CUDA, complex and plotting ones are skipped."""
    total = sum(len(doctest.DocTestParser().get_examples(d.__doc__)) for d in DOCS.values())
    kept = sum(len(statements(d.__doc__)) for d in DOCS.values())
    assert total > 250 and kept > 0.85 * total
    assert "x.unfold(0, 2, 1)\n" in statements(torch.Tensor.unfold.__doc__)
    assert F.unfold.__doc__ and not doctest.DocTestParser().get_examples(F.unfold.__doc__)  # (F.unfold/fold: no examples in their docs)
