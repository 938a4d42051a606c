"""fnreg: agent training with functions as learnable weights, kept as Python source in git.

The library API the CLI is built on::

    from fnreg import Registry
    registry = Registry(".")
    registry.toolset("math").openai_tools()
"""

__version__ = "0.1.0"

from fnreg.errors import FnregError  # noqa: E402
from fnreg.registry import Action, Registry, Toolset, parse_action  # noqa: E402

__all__ = ["Action", "FnregError", "Registry", "Toolset", "__version__", "parse_action"]
