"""One exception hierarchy for everything sheep-xl reports to a person.

Every error carries a one-sentence message that says what happened and what to do, and an exit
code for the CLI. Messages never contain the API key: the client never formats one into text.
"""

from __future__ import annotations

import copy

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_AUTH = 3
EXIT_REMOTE = 4


class SheepError(Exception):
    """Base class: ``str(error)`` is the sentence shown to the user."""

    exit_code = EXIT_REMOTE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def in_context(self, context: str) -> SheepError:
        """The same error (same type and exit code) with a prefix saying where it happened."""
        clone = copy.copy(self)
        clone.message = f"{context}: {self.message}"
        clone.args = (clone.message,)
        return clone


# --- bad input (exit 2): nothing is sent to the server -------------------------------------


class InputError(SheepError):
    """The request cannot be valid; raised before anything is sent."""

    exit_code = EXIT_BAD_INPUT


class InvalidBucketError(InputError):
    pass


class InvalidStateError(InputError):
    pass


class UnknownColumnsError(InputError):
    def __init__(self, message: str, unknown: list[str]) -> None:
        super().__init__(message)
        self.unknown = unknown


class WorkbookError(InputError):
    """A workbook cannot be read, has no stored queries, or cannot be written."""


class PortInUseError(InputError):
    """The demo server cannot listen on the port it was given."""


class InstallError(InputError):
    """The add-in cannot be installed or removed as asked (a file or folder problem)."""


class AddinInUseError(InstallError):
    """The add-in file is open in Excel (Windows refuses to replace or delete it)."""


# --- authentication (exit 3) ---------------------------------------------------------------


class AuthenticationError(SheepError):
    exit_code = EXIT_AUTH


class ApiKeyMissingError(AuthenticationError):
    pass


class ApiKeyRejectedError(AuthenticationError):
    pass


class CredentialStoreError(AuthenticationError):
    """The OS credential store is missing or refused the key (``SHEEP_API_KEY`` still works)."""


# --- answers from the server about the request (exit 2) ------------------------------------


class BucketNotFoundError(SheepError):
    exit_code = EXIT_BAD_INPUT


class BadRequestError(SheepError):
    exit_code = EXIT_BAD_INPUT


class NotFoundError(SheepError):
    """A single record (e.g. an event uid) does not exist."""

    exit_code = EXIT_BAD_INPUT


# --- network and server (exit 4) -----------------------------------------------------------


class RemoteError(SheepError):
    exit_code = EXIT_REMOTE


class NetworkError(RemoteError):
    pass


class ApiTimeoutError(NetworkError):
    pass


class RateLimitedError(RemoteError):
    pass


class ServerError(RemoteError):
    pass


class UnexpectedResponseError(RemoteError):
    pass


class PagingError(UnexpectedResponseError):
    """The server's paging cannot be trusted (ignores ``page`` or never ends)."""
