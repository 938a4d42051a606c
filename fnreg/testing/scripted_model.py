"""The scripted model behind the offline demo: one deterministic policy for both roles.

Requests that offer the optimizer's tools (add_function, revise_function, remove_function)
go to :func:`~fnreg.testing.scripted_optimizer.optimizer_policy`; all others to the agent
policy. It is labelled as scripted wherever it appears, and nothing it scores is a claim
about any language model.
"""

from __future__ import annotations

from typing import Any

from fnreg.testing.scripted_agent import agent_policy
from fnreg.testing.scripted_optimizer import optimizer_policy
from fnreg.testing.server import Reply

MODEL_NAME = "fnreg-scripted"
OPTIMIZER_TOOLS = {"add_function", "revise_function", "remove_function"}


def scripted_policy(request: dict[str, Any]) -> Reply:
    """Answer a chat-completions request as the demo's scripted agent or optimizer."""
    offered = {tool.get("function", {}).get("name") for tool in request.get("tools") or []}
    return optimizer_policy(request) if offered & OPTIMIZER_TOOLS else agent_policy(request)
