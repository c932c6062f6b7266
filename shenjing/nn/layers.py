"""Layers (层) as Modules: Linear, Bilinear, Identity, Flatten, Unflatten, Dropout, Embedding,
BatchNorm1d/2d, LayerNorm, GroupNorm.

Constructors, parameter names and shapes, buffers, default initialisation and ``repr`` follow
PyTorch, so that ``model.state_dict()`` moves between the two.
"""

from __future__ import annotations

import math

from .. import backend as B
from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from . import init
from .functional import layers as F
from .module import Module, Parameter

__all__ = [
    "Identity", "Linear", "Bilinear", "Flatten", "Unflatten", "Dropout", "Embedding",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm",
]


def _dtype(dtype):
    return B.get_default_dtype() if dtype is None else xp.dtype(dtype)


def _param(shape, dtype) -> Parameter:
    return Parameter(xp.empty(shape, dtype=_dtype(dtype)))


class Identity(Module):
    """y = x (恒等层); accepts and ignores any constructor arguments, like torch.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the input itself.

    Examples:
        >>> nn.Identity(54, unused='argument')(sj.randn(128, 20)).shape
        shenjing.Size([128, 20])
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """Fully connected layer (全连接层): y = x Wᵀ + b, W of shape (out_features, in_features).

    Initialised like torch: W ~ kaiming_uniform_(a=√5) = U(±1/√in_features), b ~ U(±1/√in_features).

    Shape:
        - Input: (*, H_in) with H_in = in_features; * is any number of dimensions, including none.
        - Output: (*, H_out) with H_out = out_features.

    Examples:
        >>> m = nn.Linear(20, 30)
        >>> m(sj.randn(128, 20)).shape
        shenjing.Size([128, 30])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _param((out_features, in_features), dtype)
        if bias:
            self.bias = _param((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y_k = x₁ᵀ W_k x₂ + b_k (双线性层), W of shape (out, in1, in2); W, b ~ U(±1/√in1) like torch.

    Shape:
        - Input1: (*, H_in1) with H_in1 = in1_features.
        - Input2: (*, H_in2) with H_in2 = in2_features, the same *.
        - Output: (*, H_out) with H_out = out_features.

    Examples:
        >>> m = nn.Bilinear(20, 30, 40)
        >>> m(sj.randn(128, 20), sj.randn(128, 30)).shape
        shenjing.Size([128, 40])
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = _param((out_features, in1_features, in2_features), dtype)
        if bias:
            self.bias = _param((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (展平), by default all but the batch dim.

    Shape:
        - Input: (*, S_start, ..., S_end, *).
        - Output: (*, S_start·...·S_end, *).

    Examples:
        >>> nn.Flatten()(sj.randn(32, 1, 5, 5)).shape
        shenjing.Size([32, 25])
        >>> nn.Flatten(0, 2)(sj.randn(32, 1, 5, 5)).shape
        shenjing.Size([160, 5])
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (the inverse of Flatten).

    Shape:
        - Input: (*, S_dim, *) with S_dim = the product of unflattened_size.
        - Output: (*, U_1, ..., U_n, *).

    Examples:
        >>> nn.Unflatten(1, (2, 5, 5))(sj.randn(2, 50)).shape
        shenjing.Size([2, 2, 5, 5])
    """

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """Inverted dropout (随机失活, Nelson "Dropout"): zero each element with probability p and
    scale the rest by 1/(1−p) in training; the identity in eval mode.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape.

    Examples:
        >>> m = nn.Dropout(p=0.2)
        >>> m(sj.randn(20, 16)).shape
        shenjing.Size([20, 16])
        >>> m.eval()(sj.ones(3)).tolist()  # the identity in eval mode
        [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Embedding(Module):
    """A lookup table (嵌入层) of ``num_embeddings`` vectors of size ``embedding_dim``, initialised
    N(0, 1) like torch; the ``padding_idx`` row starts at zero and gets no gradient.

    Shape:
        - Input: (*), integer indices in [0, num_embeddings).
        - Output: (*, H) with H = embedding_dim.

    Examples:
        >>> m = nn.Embedding(10, 3)
        >>> m(sj.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])).shape
        shenjing.Size([2, 4, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Tensor | None = None, _freeze: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError("Padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = _param((num_embeddings, embedding_dim), dtype)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with self.weight.inplace() as w:
                w[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        if embeddings.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=as_tensor(embeddings.array.copy()), _freeze=freeze)


class _BatchNorm(Module):
    """Batch normalisation (批归一化, Fang §8.2): per channel, normalise with the batch mean and
    the biased batch variance, then γ x̂ + β (γ = 1, β = 0 at init). Running mean and the unbiased
    running variance are tracked with ``momentum`` (or a cumulative average when momentum=None)
    and used in eval mode. Buffers: running_mean, running_var, num_batches_tracked (torch's names).

    ``eps_form="std_plus_eps"`` divides by s + ε (Fang §8.2) instead of √(s² + ε); ``stats="scalar"``
    uses one variance s² = Σ_c s_c² for the whole layer (Nelson "每层的批量归一化"); see
    :func:`shenjing.nn.functional.batch_norm`. The defaults are PyTorch's."""

    _dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True,
                 eps_form: str = "sqrt", stats: str = "per_feature") -> None:
        super().__init__()
        if eps_form not in F.EPS_FORMS or stats not in F.STATS_FORMS:
            raise ValueError(f"{type(self).__name__}: eps_form must be one of {F.EPS_FORMS} and stats one of "
                             f"{F.STATS_FORMS}, got eps_form={eps_form!r}, stats={stats!r}")
        self.eps_form, self.stats = eps_form, stats
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = _param((num_features,), dtype)
            if bias:
                self.bias = _param((num_features,), dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", as_tensor(xp.zeros(num_features, dtype=_dtype(dtype))))
            self.register_buffer("running_var", as_tensor(xp.ones(num_features, dtype=_dtype(dtype))))
            self.register_buffer("num_batches_tracked", as_tensor(xp.array(0, dtype=xp.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            for name, v in (("running_mean", 0), ("running_var", 1), ("num_batches_tracked", 0)):
                with self._buffers[name].inplace() as a:
                    a[...] = v

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._dims:
            want = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"{type(self).__name__}: expected {want} input (got {input.ndim}D input of shape {tuple(input.shape)})")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with self.num_batches_tracked.inplace() as nbt:
                nbt[...] += 1
            factor = 1.0 / float(nbt) if self.momentum is None else self.momentum
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_stats = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if use_stats else None, self.running_var if use_stats else None,
                            self.weight, self.bias, bn_training, factor, self.eps, eps_form=self.eps_form, stats=self.stats)

    def notes_form(self) -> bool:
        """Whether this layer uses one of the notes' forms (eps_form or stats not PyTorch's)."""
        return (self.eps_form, self.stats) != ("sqrt", "per_feature")

    def extra_repr(self) -> str:
        forms = f", eps_form={self.eps_form!r}, stats={self.stats!r}" if self.notes_form() else ""
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}{forms}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) inputs (statistics per feature C).

    Shape:
        - Input: (N, C) or (N, C, L) with C = num_features.
        - Output: the same shape as the input.

    Examples:
        >>> m = nn.BatchNorm1d(100)
        >>> m(sj.randn(20, 100)).shape
        shenjing.Size([20, 100])
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) inputs (statistics per channel C).

    Shape:
        - Input: (N, C, H, W) with C = num_features.
        - Output: (N, C, H, W), the same shape.

    Examples:
        >>> m = nn.BatchNorm2d(100)
        >>> m(sj.randn(20, 100, 35, 45)).shape
        shenjing.Size([20, 100, 35, 45])
    """

    _dims = (4,)


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation whose statistics are those of the global batch, over every rank
    (torch.nn.SyncBatchNorm, for DistributedDataParallel); in eval mode, or in a world of one
    process, exactly BatchNorm. ``SyncBatchNorm.convert_sync_batchnorm(model)`` replaces the
    BatchNorm1d/2d layers of a model."""

    _dims = (2, 3, 4, 5)

    def forward(self, input: Tensor) -> Tensor:
        from ..distributed.group import get_world_size
        from ..distributed.sync_batchnorm import SyncBatchNormalize

        if not self.training or get_world_size() == 1:
            return super().forward(input)
        if self.notes_form():
            raise NotImplementedError(f"SyncBatchNorm: eps_form={self.eps_form!r}, stats={self.stats!r} are not "
                                      "supported across processes (only PyTorch's √(s² + ε) per feature)")
        self._check_input_dim(input)
        stats: dict = {}
        w = self.weight if self.weight is not None else as_tensor(xp.ones(self.num_features, input.dtype))
        b = self.bias if self.bias is not None else as_tensor(xp.zeros(self.num_features, input.dtype))
        y = SyncBatchNormalize.apply(input, w, b, eps=self.eps, stats=stats)
        if self.track_running_stats:
            self._update_running(stats)
        return y

    def _update_running(self, stats: dict) -> None:
        with self.num_batches_tracked.inplace() as nbt:
            nbt[...] += 1
        f = 1.0 / float(self.num_batches_tracked.item()) if self.momentum is None else self.momentum
        unbiased = stats["var"] * stats["count"] / max(stats["count"] - 1, 1)
        for name, value in (("running_mean", stats["mean"]), ("running_var", unbiased)):
            with getattr(self, name).inplace() as r:
                r *= 1 - f
                r += (f * value).astype(r.dtype)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every BatchNorm1d/2d replaced by a SyncBatchNorm holding its parameters and statistics."""
        if isinstance(module, (BatchNorm1d, BatchNorm2d)):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                       eps_form=module.eps_form, stats=module.stats)
            sync.load_state_dict(module.state_dict())
            sync.train(module.training)
            return sync
        for name, child in list(module.named_children()):
            setattr(module, name, cls.convert_sync_batchnorm(child))
        return module


class LayerNorm(Module):
    """Layer normalisation (层归一化): each sample over its last dims ``normalized_shape``, biased
    variance; γ = 1, β = 0 at init (``elementwise_affine``).

    Shape:
        - Input: (N, *) whose last dimensions are normalized_shape.
        - Output: (N, *), the same shape.

    Examples:
        >>> m = nn.LayerNorm(10)
        >>> m(sj.randn(20, 5, 10)).shape
        shenjing.Size([20, 5, 10])
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = _param(self.normalized_shape, dtype)
            if bias:
                self.bias = _param(self.normalized_shape, dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalisation (组归一化): channels in ``num_groups`` groups, each (sample, group)
    normalised; per-channel γ = 1, β = 0 at init.

    Shape:
        - Input: (N, C, *) with C = num_channels, divisible by num_groups.
        - Output: (N, C, *), the same shape.

    Examples:
        >>> m = nn.GroupNorm(3, 6)
        >>> m(sj.randn(20, 6, 10, 10)).shape
        shenjing.Size([20, 6, 10, 10])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = _param((num_channels,), dtype)
            if bias:
                self.bias = _param((num_channels,), dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"
