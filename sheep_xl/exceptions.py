"""One exception hierarchy for everything sheep-xl reports to a person.

Every error carries a one-sentence message that says what happened and what to do, and an exit
code for the CLI. Messages never contain the API key: the client never formats one into text,
and every message is passed through `redaction.redact` here, so text a server sent (which may
echo the key, or an address with a password) cannot carry it either.
"""

from __future__ import annotations

import copy

from sheep_xl.redaction import redact

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_AUTH = 3
EXIT_REMOTE = 4


class SheepError(Exception):
    """Base class: ``str(error)`` is the sentence shown to the user."""

    exit_code = EXIT_REMOTE

    def __init__(self, message: str) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def in_context(self, context: str) -> SheepError:
        """The same error (same type and exit code) with a prefix saying where it happened."""
        clone = copy.copy(self)
        clone.message = redact(f"{context}: {self.message}")
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


class SettingsError(InputError):
    """A value in the settings file has the wrong type or is out of range."""


class InsecureTransportError(InputError):
    """The API key would travel over plain http to a computer other than this one."""


class WorkbookError(InputError):
    """A workbook cannot be read, has no stored queries, or cannot be written."""


class ExcelLimitError(WorkbookError):
    """A table would not fit on a sheet (past row 1,048,576 or column XFD); nothing is written."""


class ReadOnlyWorkbookError(WorkbookError):
    """The workbook to refresh is read-only; refused before anything is fetched."""


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


class InvalidApiKeyError(AuthenticationError):
    """The key holds characters an HTTP header cannot carry (a space, a line break, ...)."""


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


class RequestDeadlineError(ApiTimeoutError):
    """A response took longer than ``request_deadline`` in all (e.g. a server sending a byte a
    second, which no per-read timeout catches)."""


class RateLimitedError(RemoteError):
    pass


class ServerError(RemoteError):
    pass


class UnexpectedResponseError(RemoteError):
    pass


class ResponseTooLargeError(UnexpectedResponseError):
    """A response decoded to more than ``max_response_bytes`` (a compression bomb, a runaway
    server); reading stopped at the cap."""


class PagingError(UnexpectedResponseError):
    """The server's paging cannot be trusted (ignores ``page`` or never ends)."""
