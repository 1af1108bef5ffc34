"""The ledger's one application service: every command and query of the eight chapters.

The web API, the scheduler and the CLI all call `LedgerApplication`. Persistence is
chosen only by `env` (the library's PERSISTENCE_MODULE and friends); the security
layer installs its encrypting mapper that way. Time comes from the injected `clock`,
never from the system directly, so every rule can be exercised on any date.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from uuid import UUID

from eventsourcing.application import Application

from domain.ports import SubjectKeys
from domain.services.base import utc_now
from domain.services.care import CareCommands
from domain.services.customers import CustomerCommands
from domain.services.engagement import EngagementCommands
from domain.services.feedback import FeedbackCommands
from domain.services.grading import GradingCommands
from domain.services.history import HistoryQueries
from domain.services.kyc import KycCommands
from domain.services.operations import OperationsCommands
from domain.services.privacy import PrivacyCommands
from domain.services.quality import QualityCommands
from domain.services.satisfaction import SatisfactionCommands
from domain.services.value import ValueCommands
from domain.settings import RuleSettings


class LedgerApplication(
    CustomerCommands,
    KycCommands,
    EngagementCommands,
    FeedbackCommands,
    GradingCommands,
    QualityCommands,
    SatisfactionCommands,
    ValueCommands,
    CareCommands,
    OperationsCommands,
    PrivacyCommands,
    HistoryQueries,
    Application[UUID],
):
    """The customer-relationship ledger.

    Guarantees: a command either records all of its events in one atomic write or,
    when refused (a DomainError), records nothing; updates given an
    `expected_version` that is not current raise VersionConflict, as does losing a
    race to a concurrent writer.
    """

    name = "Ledger"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        subject_keys: SubjectKeys | None = None,
        settings: RuleSettings | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings if settings is not None else RuleSettings()
        self.subject_keys = subject_keys
        self.clock = clock if clock is not None else utc_now
        super().__init__(env)
