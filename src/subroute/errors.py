"""User-facing errors.

Every problem a user can cause or fix (a missing model file, an unreachable endpoint, a
malformed pool file, an empty question) is raised as a `SubrouteError` whose message is one
line naming the problem and the fix. The CLI prints it as ``error: <message>`` and exits
non-zero; anything else escaping is a bug in subroute, not in the user's input.
"""

from __future__ import annotations


class SubrouteError(Exception):
    """A problem the user can fix; the message is one line that says how."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # always one line


class ConfigError(SubrouteError):
    """A malformed pool file or bad option."""

    exit_code = 2


class ModelNotAvailable(SubrouteError):
    """A model whose weights are missing or unverified, or whose endpoint cannot be reached."""


class BackendError(SubrouteError):
    """A model call failed (timeout, refused connection, garbage answer, rejected key)."""

    def __init__(self, model: str, message: str, *, timeout: bool = False) -> None:
        self.model = model
        self.timeout = timeout
        super().__init__(f"model '{model}': {message}")


def missing_extra(package: str, extra: str) -> SubrouteError:
    """The error for an optional dependency that is not installed."""
    return SubrouteError(
        f"{package} is not installed; install it with: pip install 'subroute[{extra}]'"
    )
