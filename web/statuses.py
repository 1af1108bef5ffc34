"""The HTTP status of every error of ours, in one table.

The domain and the other packages raise errors with a stable `code` and a message
and know nothing of HTTP; this table says what each one means to a client. The most
specific class in the table wins, so a new subclass answers as its parent until it
is listed; a test keeps every error class of ours listed explicitly.
"""

from __future__ import annotations

from domain.calendars import CalendarNotCovered
from domain.errors import (
    AlreadyExists,
    BusinessSuspended,
    C3DataRefused,
    ConsentRequired,
    DomainError,
    IllegalTransition,
    KeyUnavailable,
    LegalHoldActive,
    NotFound,
    NotPermitted,
    ProcessingRestricted,
    RetentionRunning,
    SubjectErased,
    SubjectKeysUnavailable,
    ValidationFailed,
    VersionConflict,
)
from domain.grading import NotEntitled
from domain.identity import AlreadyRegistered
from domain.moments import BadMoment
from domain.rules.errors import RuleError
from domain.settings import SettingsError
from projections.runtime import UnknownView, ViewLagging
from scheduler.config import SchedulerConfigError
from scheduler.registry import UnknownJob
from scheduler.runner import FutureRun
from security.errors import ConfigurationError, EventAuthenticationFailed, KeyringError
from security.export.errors import ExportError, ExportScopeError
from security.festivals import FestivalUnknown
from security.integrity.access_log import UnknownPurpose
from security.integrity.anchors import AnchorError
from security.integrity.sealed_log import NotAnAnchoredExtension, SealedLogInconsistent
from security.keys.pkcs11 import KeyServiceUnavailable
from security.presence import NoLedger
from security.store_faults import StorageFull, StoreBusy, StoreFault, StoreUnavailable
from web.errors import (
    BadPrecondition,
    BundleExpired,
    ExportNotPending,
    ExportNotReady,
    ExportScopeProblem,
    Forbidden,
    OutsideBook,
    PreconditionRequired,
    ProofRangeError,
    SameApprover,
    Unauthenticated,
)

# Invalid input, whoever found it (the schema or the domain), is 422 with `errors`.
VALIDATION = 422

STATUSES: dict[type[DomainError], int] = {
    DomainError: 400,
    # the client's input
    ValidationFailed: VALIDATION,
    BadMoment: VALIDATION,
    C3DataRefused: VALIDATION,
    ExportScopeError: VALIDATION,
    ExportScopeProblem: VALIDATION,
    RuleError: VALIDATION,
    FutureRun: VALIDATION,
    UnknownPurpose: 400,
    BadPrecondition: 400,
    ProofRangeError: 400,
    # who may ask
    Unauthenticated: 401,
    Forbidden: 403,
    OutsideBook: 403,
    SameApprover: 403,
    NotPermitted: 403,
    # what exists
    NotFound: 404,
    UnknownView: 404,
    UnknownJob: 404,
    SubjectErased: 410,
    BundleExpired: 410,
    # the state the command meets
    AlreadyExists: 409,
    AlreadyRegistered: 409,
    IllegalTransition: 409,
    NotEntitled: 409,
    ConsentRequired: 409,
    ProcessingRestricted: 409,
    LegalHoldActive: 409,
    RetentionRunning: 409,
    BusinessSuspended: 409,
    ExportNotReady: 409,
    ExportNotPending: 409,
    VersionConflict: 412,
    PreconditionRequired: 428,
    # ours, not the client's: logged, answered without detail of personal data
    KeyUnavailable: 500,
    SubjectKeysUnavailable: 500,
    SettingsError: 500,
    KeyringError: 500,
    EventAuthenticationFailed: 500,
    ConfigurationError: 500,
    CalendarNotCovered: 503,  # no business calendar for the year: the operator's to fix
    FestivalUnknown: 503,  # the calendar package has no festival day: the operator's to fix
    NoLedger: 503,  # the server points at a place with no ledger: not the client's fault
    SealedLogInconsistent: 500,
    NotAnAnchoredExtension: 500,
    AnchorError: 500,
    ExportError: 500,
    SchedulerConfigError: 500,
    ViewLagging: 503,
    # the store, not the request: answered with Retry-After (web.problems)
    StoreFault: 503,
    StoreBusy: 503,
    StoreUnavailable: 503,
    KeyServiceUnavailable: 503,  # the HSM away or refusing: Retry-After, nothing written
    StorageFull: 507,  # RFC 4918 Insufficient Storage: writes wait for an operator
}


def status_of(error: DomainError) -> int:
    """The status of the most specific class of `error` in the table."""
    for cls in type(error).__mro__:
        status = STATUSES.get(cls)
        if status is not None:
            return status
    return STATUSES[DomainError]  # pragma: no cover - DomainError is in every such MRO
