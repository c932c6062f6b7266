"""Differentiable operations, one file per family."""

from . import elementwise, index, linalg, reduce, shape  # noqa: F401
