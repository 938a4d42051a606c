"""Errors fnreg raises on purpose.

Every subclass of :class:`FnregError` carries a one-line message that says what went
wrong and, where possible, what to do. The CLI prints that line and exits non-zero;
anything else that escapes is a bug.
"""

from __future__ import annotations


class FnregError(Exception):
    """An expected failure with a one-line, user-facing message.

    ``details``: text someone else wrote that explains it (a git hook's output), printed by the
    CLI before the one line, never part of it.
    """

    exit_code = 1

    def __init__(self, message: str, *, details: str | None = None) -> None:
        # One line only: the CLI prints it verbatim, and the optimizer feeds it back to the LLM.
        super().__init__(" ".join(str(message).split("\n")).strip())
        self.details = details


class InputError(FnregError):
    """Bad input on the command line: an unknown task set, ref, toolset or remote, a missing tool.

    Exit status 2, like a usage error, and raised before anything is spent or written.
    """

    exit_code = 2


class ConfigError(FnregError):
    """Bad or missing settings (flags, environment, ``[tool.fnreg]``)."""


class GitError(FnregError):
    """The repository is missing or in a state fnreg refuses to write to."""


class HookRejected(GitError):
    """A git hook of the repository (pre-commit, commit-msg...) refused a commit; nothing was committed."""


class ActionError(FnregError):
    """An optimizer action that is invalid; nothing was written or committed."""


class TaskSetError(FnregError):
    """A task set that cannot be loaded."""


class TaskSetNotFound(TaskSetError, InputError):
    """No task set by that name or path (exit status 2: bad input)."""


class LLMError(FnregError):
    """A chat-completion request failed in a way the caller should act on."""


class SandboxError(FnregError):
    """The sandbox itself (not the learned code it runs) failed."""


class DatabaseLocked(FnregError):
    """Another process kept a shared SQLite file (a cache) locked for longer than the busy timeout."""


class LockError(FnregError):
    """Another fnreg process holds the lock on this toolset."""
