"""The agents of the paper: native function calling (``tools``) and a text ReAct loop (``react``).

Agents know nothing of the trainer: they get a prompt, tool schemas and a tool runner.
"""

from fnreg.agents.base import PYTHON_TOOL, Agent, AgentLimits, Conversation, ToolRunner
from fnreg.agents.config import AgentKind
from fnreg.agents.react_agent import ReactAgent, parse_reply
from fnreg.agents.tools_agent import ToolsAgent

#: The agent class of each kind a task set may name (the kinds: :data:`~fnreg.agents.config.AgentKind`).
AGENTS: dict[AgentKind, type[Agent]] = {"tools": ToolsAgent, "react": ReactAgent}

__all__ = [
    "AGENTS",
    "PYTHON_TOOL",
    "Agent",
    "AgentLimits",
    "Conversation",
    "ReactAgent",
    "ToolRunner",
    "ToolsAgent",
    "parse_reply",
]
