"""Domain errors: raised by services with a translated message, turned into form errors or clear pages by views."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the platform refused the operation. `message` is translated and safe to show."""

    code = "invalid"

    def __init__(self, message, *, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code


class PermissionRefused(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    """Does not exist, or is not yours: the two are never told apart."""

    code = "not_found"
