"""The reductions of the API-breadth family against PyTorch in float64: nansum nanmean aminmax cumprod logcumsumexp
cummax cummin median mode quantile nanquantile — values, dtypes, gradients (and gradcheck), negative dims, keepdim,
zero-size, 0-d and non-contiguous inputs, NaN."""

import numpy as np
import pytest
from torch_compare import check, rand

import shenjing as sj
from shenjing.autograd import gradcheck

OPS = {
    "nansum": lambda m, x: (m.nansum(x), x.nansum(-1), m.nansum(x, (0, -1), keepdim=True)),
    "nanmean": lambda m, x: (m.nanmean(x), x.nanmean(0), m.nanmean(x, -1, keepdim=True)),
    "aminmax": lambda m, x: tuple(m.aminmax(x)) + tuple(x.aminmax(dim=-1, keepdim=True)),
    "cumprod": lambda m, x: (m.cumprod(x, 0), x.cumprod(-1)),
    "logcumsumexp": lambda m, x: (m.logcumsumexp(x, 0), x.logcumsumexp(-1)),
    "cummax": lambda m, x: tuple(m.cummax(x, 0)) + tuple(x.cummax(-1)),
    "cummin": lambda m, x: tuple(m.cummin(x, -1)) + tuple(x.cummin(0)),
    "median": lambda m, x: (m.median(x),) + tuple(x.median(-1)) + tuple(m.median(x, 0, keepdim=True)),
    "mode": lambda m, x: tuple(m.mode(x.round())) + tuple(x.round().mode(0, keepdim=True)),
    "quantile": lambda m, x: (m.quantile(x, 0.3), x.quantile(m.tensor([0.0, 0.25, 1.0], dtype=x.dtype), dim=-1),
                              m.quantile(x, 0.6, dim=0, keepdim=True)),
    "nanquantile": lambda m, x: (m.nanquantile(x, 0.3), x.nanquantile(m.tensor([0.1, 0.9], dtype=x.dtype), dim=0, keepdim=True)),
}
EMPTY_OK = {"nansum", "nanmean", "cumprod", "logcumsumexp", "cummax", "cummin"}


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 5), (1, 6)])
def test_values_and_gradients(name, shape, rng):
    check(OPS[name], rand(rng, *shape))


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("view", ["T", "stride"])
def test_noncontiguous(name, view, rng):
    check(OPS[name], rand(rng, 4, 3), view=view)


@pytest.mark.parametrize("name", sorted(EMPTY_OK))
def test_zero_size(name, rng):
    check(lambda m, x: OPS[name](m, x)[1:], rand(rng, 2, 0))


@pytest.mark.parametrize("name", ["nansum", "nanmean", "cumprod", "logcumsumexp", "cummax", "cummin", "median", "mode",
                                  "quantile", "nanquantile"])
def test_zero_dim(name, rng):
    fns = {"cumprod": lambda m, x: m.cumprod(x, 0), "logcumsumexp": lambda m, x: m.logcumsumexp(x, -1),
           "cummax": lambda m, x: tuple(m.cummax(x, 0)), "cummin": lambda m, x: tuple(m.cummin(x, -1)),
           "median": lambda m, x: (m.median(x),) + tuple(m.median(x, 0)), "mode": lambda m, x: tuple(m.mode(x)),
           "quantile": lambda m, x: (m.quantile(x, 0.4), m.quantile(x, 0.4, dim=0, keepdim=True)),
           "nanquantile": lambda m, x: m.nanquantile(x, 0.4)}
    check(fns.get(name, lambda m, x: getattr(m, name)(x)), rand(rng))


def test_nan_inputs(rng):
    """NaN: skipped by nansum/nanmean/nanquantile, propagated by median/quantile (the gradient goes to a NaN entry),
    carried by cummax/cummin (later index). An all-NaN slice: values only (PyTorch's gradient there is NaN or 0)."""
    x = rand(rng, 4, 5)
    x[0, 1] = x[2, 3] = x[2, 4] = np.nan

    def fns(m, t):
        return (m.nansum(t, 1), m.nanmean(t, 1), m.nanquantile(t, 0.5, dim=1), m.quantile(t, 0.5, dim=1),
                *m.median(t, 1), *m.cummax(t, 1), *m.cummin(t, 1))

    check(fns, x[:3])
    x[3] = np.nan
    check(fns, x, grad=False)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_interpolation(interpolation, rng):
    check(lambda m, x: m.quantile(x, m.tensor([0.0, 0.125, 0.5, 0.7, 1.0], dtype=x.dtype), dim=1, interpolation=interpolation),
          rand(rng, 3, 5))


def test_ties_and_zeros():
    """cummax/cummin ties take the later index; cumprod's gradient through zeros; mode picks the smallest most frequent;
    median() shares its gradient between ties."""
    x = np.array([[1.0, 3.0, 3.0, 0.0, 2.0, 0.0], [0.0, 0.0, -1.0, -1.0, 5.0, 5.0]])
    check(lambda m, t: (*m.cummax(t, 1), *m.cummin(t, 1), m.cumprod(t, 1), *m.mode(t, 1)), x)
    for row in ([1.0, 2.0, 2.0, 3.0, 2.0], [np.nan, 1.0, np.nan], [np.inf, np.inf, 1.0], [4.0]):
        check(lambda m, t: m.median(t), np.array(row))  # median(): the gradient shared by the tied entries


def test_integer_inputs(rng):
    x = rng.integers(-3, 4, (3, 4))
    check(lambda m, t: (m.cumprod(t, 1), *m.cummax(t, 0), *m.median(t, 1), *m.mode(t, 1), m.nansum(t), *m.aminmax(t)), x)


def test_gradcheck(rng):
    x = sj.tensor(rand(rng, 3, 4), requires_grad=True)
    assert gradcheck(lambda t: sj.cumprod(t, 1) + sj.logcumsumexp(t, 0) + sj.cummax(t, 1).values, (x,))
    assert gradcheck(lambda t: sj.quantile(t, 0.35, dim=1) + sj.median(t, 1).values + sj.nanmean(t, 1), (x,))
    z = sj.tensor(np.array([[0.5, 0.0, 2.0, -1.5]]), requires_grad=True)
    assert gradcheck(lambda t: sj.cumprod(t, -1), (z,))


def test_bad_arguments():
    x = sj.tensor([[1.0, 2.0]])
    with pytest.raises(RuntimeError, match="quantile"):
        sj.quantile(x, 1.5)
    with pytest.raises(ValueError, match="interpolation"):
        sj.quantile(x, 0.5, interpolation="cubic")
    with pytest.raises(IndexError, match="median"):
        sj.median(sj.zeros(2, 0), 1)
    with pytest.raises(RuntimeError, match="nanmean"):
        sj.nanmean(sj.tensor([1, 2]))


ALIASED = "sum mean var std prod amax amin all any argmax argmin logsumexp nansum nanmean median max min quantile mode".split()


@pytest.mark.parametrize("name", ALIASED)
def test_axis_keepdims_aliases(name, rng):
    """NumPy's axis= and keepdims= spellings, as PyTorch accepts them (functions and methods)."""
    args = (0.5,) if name == "quantile" else ()

    def fn(m, x):
        return (getattr(m, name)(x, *args, axis=-1, keepdims=True), getattr(x, name)(*args, axis=0),
                getattr(m, name)(x, *args, dim=1, keepdims=True))

    check(fn, rand(rng, 3, 4), grad=name not in ("all", "any", "argmax", "argmin"))


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin", "softmax", "log_softmax",
                                  "count_nonzero", "std_mean", "var_mean", "aminmax"])
def test_axis_alias(name, rng):
    def fn(m, x):
        out = getattr(m, name)(x, axis=-1)
        return tuple(out) if isinstance(out, tuple) else out

    check(fn, rand(rng, 3, 4), grad=name != "count_nonzero")
    check(lambda m, x: tuple(m.var_mean(x, axis=0, keepdims=True, correction=0)), rand(rng, 3, 4))
