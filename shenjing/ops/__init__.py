"""Differentiable operations, one file per family (SPEC §1)."""

from . import elementwise, index, linalg, reduce, shape  # noqa: F401
