"""fnreg's version, read from the installed package's metadata (``pyproject.toml`` is the one source)."""

from __future__ import annotations

from functools import cache


@cache
def fnreg_version() -> str:
    """The installed distribution's version, or ``0+unknown`` when fnreg runs from an uninstalled tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fnreg")
    except PackageNotFoundError:
        return "0+unknown"
