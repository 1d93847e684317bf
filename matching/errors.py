"""Errors raised by the matcher, each with a stable ``code`` the API can return as is."""

from __future__ import annotations


class MatchingError(Exception):
    """Base class: ``code`` is stable, ``message`` is for people, ``details`` is plain data."""

    code = "matching_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "details": dict(self.details)}

    def __reduce__(self):  # the details too, when a helper process sends the error back
        return _restore, (type(self), self.message, self.details)


def _restore(kind: type, message: str, details: dict) -> "MatchingError":
    return kind(message, **details)


class EmptyQuery(MatchingError):
    """The demand has no title, description or item that carries any meaning."""

    code = "empty_query"


class QueryTooLong(MatchingError):
    """A text of the demand is longer than the configured limit."""

    code = "query_too_long"


class TooManyItems(MatchingError):
    """The demand requests more items than the configured limit."""

    code = "too_many_items"


class InvalidTopK(MatchingError):
    """The number of candidates asked for is not a whole number within the limit."""

    code = "invalid_top_k"


class InvalidRecord(MatchingError):
    """A catalog record handed to the index is malformed (no key, unknown sharing type ...)."""

    code = "invalid_record"


class DuplicateKey(MatchingError):
    """Two records in one build share a key."""

    code = "duplicate_key"


class InvalidSynonyms(MatchingError):
    """A synonym group or pair is malformed (fewer than two terms, unknown kind ...)."""

    code = "invalid_synonyms"
