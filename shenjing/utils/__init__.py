"""``shenjing.utils`` as ``torch.utils``: ``shenjing.utils.data`` is ``torch.utils.data``."""

from __future__ import annotations

from . import data  # noqa: F401
