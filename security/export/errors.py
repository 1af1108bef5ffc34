"""Why an audit-trail export did not happen: a bad request, or a failed export."""

from __future__ import annotations

from domain.errors import DomainError


class ExportScopeError(DomainError):
    """The requested scope or target is not acceptable (nothing was written)."""

    code = "invalid_export"


class ExportError(DomainError):
    """The export could not be completed (nothing was published or recorded)."""

    code = "export_failed"
