"""A trained toolset registered with AG2 agents (``pip install 'fnreg[ag2]'``).

AG2 is home to the reference AgentOptimizer, so this is where its users land::

    from autogen import AssistantAgent, UserProxyAgent
    from fnreg.adapters.ag2 import register

    assistant = AssistantAgent("assistant", llm_config=llm_config)
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    register("math", caller=assistant, executor=user, ref="fnreg/math/RUN/best")
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import Any

from fnreg.sandbox import Limits
from fnreg.serve.toolset import DEFAULT_WORKERS, ServedToolset

try:
    from autogen import ConversableAgent
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("fnreg.adapters.ag2 needs AG2: pip install 'fnreg[ag2]'") from exc

__all__ = ["register"]


def register(
    toolset: str,
    *,
    caller: ConversableAgent,
    executor: ConversableAgent,
    ref: str | None = None,
    repo: str | os.PathLike[str] = ".",
    workers: int = DEFAULT_WORKERS,
    limits: Limits | None = None,
) -> ServedToolset:
    """Offer the functions of ``toolset`` at ``ref`` to ``caller`` and let ``executor`` run them.

    ``caller`` (it needs an ``llm_config``) gets each tool signature exactly as ``fnreg tools``
    derives it; ``executor`` gets one function per tool that runs it in the sandbox. The
    returned :class:`ServedToolset` owns the sandbox; ``close()`` it when the agents are done
    (else it closes when they are garbage-collected, or at exit).
    """
    served = ServedToolset(toolset, ref=ref, repo=repo, workers=workers, limits=limits)
    for function in served.functions:
        signature = {
            "type": "function",
            "function": {
                "name": function.name,
                "description": function.description,
                "parameters": copy.deepcopy(function.parameters),
            },
        }
        caller.update_tool_signature(signature, is_remove=False)
        executor.register_function({function.name: _sandboxed(served, function.name)})
    return served


def _sandboxed(served: ServedToolset, name: str) -> Callable[..., str]:
    def call(**arguments: Any) -> str:
        return served.call(name, arguments).text

    call.__name__ = call.__qualname__ = name
    call.__doc__ = served.toolset[name].description
    return call
