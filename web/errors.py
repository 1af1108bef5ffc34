"""The errors the web layer raises itself; their statuses are in `web.statuses`."""

from __future__ import annotations

from domain.errors import DomainError


class Unauthenticated(DomainError):
    """No bearer token, or one that is not valid."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """The caller's roles do not include one the endpoint allows."""

    code = "forbidden"


class PreconditionRequired(DomainError):
    """An update was sent without If-Match (RFC 6585 428)."""

    code = "precondition_required"


class BadPrecondition(DomainError):
    """If-Match is not one ETag of this API."""

    code = "bad_if_match"


class ProofRangeError(DomainError):
    """A proof was asked for tree sizes or an index the log does not have."""

    code = "proof_out_of_range"


class ExportScopeProblem(DomainError):
    """An export request names no scope, or one the exporter cannot take."""

    code = "bad_export_scope"


class ExportNotReady(DomainError):
    """The export's bundle is still being written."""

    code = "export_not_ready"


class BundleExpired(DomainError):
    """The export's bundle was deleted after its retention on the server."""

    code = "bundle_expired"


class OutsideBook(Forbidden):
    """The customer is outside the caller's book of business (web/api/_book.py)."""

    code = "outside_book"


class SameApprover(Forbidden):
    """The four-eyes approval of an export was given by the officer who requested it."""

    code = "same_approver"


class ExportNotPending(DomainError):
    """The export is not waiting for an approval (already approved, running or done)."""

    code = "export_not_pending"
