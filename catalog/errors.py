"""Domain errors of the catalog.  Each has a stable ``code`` the API and CLI report as-is."""

from __future__ import annotations


class CatalogError(Exception):
    """Base of every expected catalog failure."""

    code = "catalog_error"
    status = 400

    def __init__(self, message: str, *, details: object = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code


class ValidationError(CatalogError):
    """Input breaks a cataloguing rule; ``details`` maps field → messages."""

    code = "validation_error"
    status = 422


class NotFound(CatalogError):
    code = "not_found"
    status = 404


class PermissionDenied(CatalogError):
    code = "permission_denied"
    status = 403


class Conflict(CatalogError):
    """The object changed under the caller, or a unique value is taken."""

    code = "conflict"
    status = 409


class InvalidTransition(Conflict):
    code = "invalid_transition"


class MountFailed(CatalogError):
    """The resource behind a mount could not be reached or read."""

    code = "mount_failed"
    status = 422


class ImportFailed(CatalogError):
    """A bulk file was rejected; ``details`` lists every problem with its row and column."""

    code = "import_failed"
    status = 422

    def __init__(self, message: str, *, problems: list):
        if len(problems) == 1 and problems[0].row is None:  # a whole-file problem says what it is
            message = f"{message}：{problems[0].message}"
        super().__init__(message, details=[p.as_dict() for p in problems[:1000]])
        self.problems = problems
