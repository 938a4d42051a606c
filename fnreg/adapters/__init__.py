"""A trained toolset as the tools of another agent framework, each call in fnreg's sandbox.

- :mod:`fnreg.adapters.openai_agents`: ``tools("math", ref=...)`` → OpenAI Agents SDK function
  tools (``pip install 'fnreg[openai-agents]'``).
- :mod:`fnreg.adapters.ag2`: ``register("math", caller=..., executor=..., ref=...)`` → AG2
  agents (``pip install 'fnreg[ag2]'``).

Both serve the toolset the way ``fnreg serve`` does (:class:`fnreg.serve.ServedToolset`): the
ref is resolved once, the schemas are those of ``fnreg tools``, arguments are checked against
them, and learned code runs only in sandbox workers, never in the agent's process. A tool
returns the text fnreg's own agents saw during training: printed output, then the value or
the error.
"""
