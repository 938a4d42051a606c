"""A trained toolset as OpenAI Agents SDK function tools (``pip install 'fnreg[openai-agents]'``).

::

    from agents import Agent
    from fnreg.adapters.openai_agents import tools

    agent = Agent(name="solver", tools=tools("math", ref="fnreg/math/RUN/best"))
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from fnreg.sandbox import Limits
from fnreg.serve.threads import CallThreads
from fnreg.serve.toolset import DEFAULT_WORKERS, ServedToolset

try:
    from agents import FunctionTool, RunContextWrapper
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "fnreg.adapters.openai_agents needs the OpenAI Agents SDK: pip install 'fnreg[openai-agents]'"
    ) from exc

__all__ = ["tools"]


def tools(
    toolset: str,
    *,
    ref: str | None = None,
    repo: str | os.PathLike[str] = ".",
    workers: int = DEFAULT_WORKERS,
    limits: Limits | None = None,
) -> list[FunctionTool]:
    """Function tools for the functions of ``toolset`` at ``ref`` (None: the working tree).

    The sandbox (``workers`` workers, ``limits`` or ``[tool.fnreg.limits]``) lives as long as
    the tools do. Schemas are not strict (fnreg's derived schemas allow optional arguments);
    the arguments a model sends are checked against them before anything runs.
    """
    served = ServedToolset(toolset, ref=ref, repo=repo, workers=workers, limits=limits)
    threads = CallThreads()
    return [_function_tool(served, threads, function.name) for function in served.functions]


def _function_tool(served: ServedToolset, threads: CallThreads, name: str) -> FunctionTool:
    function = served.toolset[name]

    async def invoke(context: RunContextWrapper[Any], arguments: str) -> str:
        try:
            values = json.loads(arguments) if arguments.strip() else {}
        except (ValueError, RecursionError) as exc:
            return f"invalid arguments for {name}: not a JSON object ({exc})"
        return (await threads.run(served.call, name, values)).text

    return FunctionTool(
        name=name,
        description=function.description,
        params_json_schema=copy.deepcopy(function.parameters),
        on_invoke_tool=invoke,
        strict_json_schema=False,
    )
