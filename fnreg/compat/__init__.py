"""Compatibility with other agent frameworks' optimizer APIs, built on fnreg's training.

``fnreg.compat.ag2``: AG2's ``AgentOptimizer`` (``record_one_conversation``, ``step``,
``reset_optimizer``) with git-backed functions and sandboxed executors.
"""

from fnreg.compat.ag2 import AG2AgentOptimizer, AgentOptimizerCompat, FunctionCallFailed, settings_from_llm_config

__all__ = ["AG2AgentOptimizer", "AgentOptimizerCompat", "FunctionCallFailed", "settings_from_llm_config"]
