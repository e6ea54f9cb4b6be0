"""Checks on user input made before any request, so nothing odd ever reaches a URL."""

from __future__ import annotations

import re

from sheep_xl.exceptions import InputError, InvalidBucketError

_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,100}")
MAX_PAGE_SIZE = 5000


def _shown(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def validate_bucket(bucket: object) -> str:
    """A bucket is a plain identifier: letters, digits, '-' and '_' (no '/', '?', '.', spaces)."""
    text = "" if bucket is None else str(bucket).strip()
    if not text:
        raise InvalidBucketError(
            "The bucket is empty: give your sheepCRM database name, for example 'example'."
        )
    if not _IDENTIFIER.fullmatch(text):
        raise InvalidBucketError(
            f"Invalid bucket {_shown(bucket)}: a bucket is your sheepCRM database name and may "
            "contain only letters, digits, '-' and '_'."
        )
    return text


def validate_uid(uid: object) -> str:
    text = "" if uid is None else str(uid).strip()
    if not _IDENTIFIER.fullmatch(text):
        raise InputError(
            f"Invalid event uid {_shown(uid)}: a uid is the letters and digits at the end of an "
            "event's URI, for example '6305f074683e800f3abe809e'."
        )
    return text


def validate_page_size(page_size: object) -> int:
    try:
        size = int(page_size)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        size = 0
    if isinstance(page_size, bool) or not 1 <= size <= MAX_PAGE_SIZE or size != page_size:
        raise InputError(
            f"Invalid page size {_shown(page_size)}: use a whole number from 1 to {MAX_PAGE_SIZE}."
        )
    return size
