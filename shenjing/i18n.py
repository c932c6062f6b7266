"""The language (语言) of shenjing's output: English (``en``) or Chinese (``zh``, 中文).

The command line takes ``--lang en|zh``; without it the locale decides, as ``gettext`` reads it: the
first set of ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` — a value starting with ``zh`` (``zh_CN.UTF-8``)
means Chinese, anything else English.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

__all__ = ["LANGS", "default_lang", "lang_in_argv", "pick"]

LANGS = ("en", "zh")


def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """``"zh"`` if the locale (LC_ALL, LC_MESSAGES, LANG: the first one set) starts with ``zh``, else ``"en"``."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(var):
            return "zh" if env[var].lower().startswith("zh") else "en"
    return "en"


def lang_in_argv(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """The language a command line asks for (``--lang X`` or ``--lang=X`` anywhere; the last one wins),
    else :func:`default_lang`. An unknown value is left for the parser to refuse: English until then."""
    lang = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif arg.startswith("--lang="):
            lang = arg.split("=", 1)[1]
    if lang is None:
        return default_lang(environ)
    return lang if lang in LANGS else "en"


def pick(lang: str, en: str, zh: str) -> str:
    """``zh`` for Chinese, ``en`` otherwise."""
    return zh if lang == "zh" else en
