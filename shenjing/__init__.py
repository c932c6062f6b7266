"""shenjing (神经): a deep-learning framework that implements, runs and checks the lecture notes.

The API follows PyTorch: ``import shenjing as sj; x = sj.randn(3, requires_grad=True)``.
"""

from __future__ import annotations

from . import autograd, backend, ops  # noqa: F401
from .autograd.methods import bind_tensor_methods

bind_tensor_methods()  # the operators and math methods of Tensor, from shenjing.ops

from . import data
from .autograd import (
    Function,
    ShapeError,
    Tensor,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .autograd.tensor import Size
from .backend import (
    bool_ as bool,  # noqa: A001
)
from .backend import (
    complex64,
    complex128,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .backend import result_type as _result_type
from .creation import (
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    meshgrid,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from .ops.elementwise import (
    abs,  # noqa: A004
    acos,
    acosh,
    add,
    allclose,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    broadcast_to,
    ceil,
    clamp,
    clip,
    clone,
    copysign,
    cos,
    cosh,
    div,
    eq,
    equal,
    erf,
    exp,
    exp2,
    expm1,
    floor,
    floor_divide,
    fmod,
    frac,
    ge,
    gt,
    hypot,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    lerp,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    nan_to_num,
    ne,
    neg,
    pow,  # noqa: A004
    reciprocal,
    relu,
    remainder,
    round,  # noqa: A004
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinc,
    sinh,
    sqrt,
    square,
    sub,
    tan,
    tanh,
    trunc,
    where,
    xlogy,
)
from .ops.index import (
    argsort,
    bucketize,
    gather,
    index_add,
    index_copy,
    index_fill,
    index_select,
    kthvalue,
    masked_fill,
    masked_scatter,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    scatter_reduce,
    searchsorted,
    sort,
    take,
    take_along_dim,
    topk,
    unique,
)
from .ops.linalg import addmm, baddbmm, bmm, cdist, cross, dot, einsum, inner, kron, matmul, mm, mv, outer, tensordot
from .ops.matrix import det, norm, slogdet
from .ops.matrix import inv as inverse
from .ops.order import cummax, cummin, cumprod, logcumsumexp, median, mode, nanquantile, quantile
from .ops.reduce import (
    all,  # noqa: A004
    amax,
    amin,
    aminmax,
    any,  # noqa: A004
    argmax,
    argmin,
    count_nonzero,
    cumsum,
    dist,
    log_softmax,
    logsumexp,
    max,  # noqa: A004
    mean,
    min,  # noqa: A004
    nanmean,
    nansum,
    prod,
    softmax,
    std,
    std_mean,
    sum,  # noqa: A004
    var,
    var_mean,
)
from .ops.shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_shapes,
    broadcast_tensors,
    cartesian_prod,
    cat,
    chunk,
    concat,
    concatenate,
    diag,
    diag_embed,
    diagonal,
    diff,
    dsplit,
    dstack,
    flatten,
    flip,
    hsplit,
    hstack,
    movedim,
    narrow,
    pad,
    permute,
    repeat,
    repeat_interleave,
    reshape,
    roll,
    rot90,
    select,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    tensor_split,
    tile,
    trace,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
    vsplit,
    vstack,
)
from .ops.workspace import tune_malloc
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__version__ = "0.1.0"

from . import accelerator, cuda, linalg, nn, optim, utils  # noqa: E402,F401  (as torch.linalg, torch.nn, torch.optim, torch.cuda, torch.accelerator, torch.utils)
from .device import device  # noqa: E402
from .nn.serialization import load, save  # noqa: E402  (after the core, which shenjing.nn uses)

float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
dtype = type(float32)


def result_type(tensor1, tensor2):
    """The dtype of ``tensor1 op tensor2`` (torch.result_type)."""
    return _result_type(tensor1, tensor2)


def promote_types(type1, type2):
    return backend.promote_types(backend.xp.dtype(type1), backend.xp.dtype(type2))


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()
