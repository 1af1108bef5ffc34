"""The ledger's one application service: every command and query of the eight chapters.

The web API, the scheduler and the CLI all call `LedgerApplication`. Persistence is
chosen only by `env` (the library's PERSISTENCE_MODULE and friends); the security
layer installs its encrypting mapper that way. Time comes from the injected `clock`,
never from the system directly, so every rule can be exercised on any date.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from domain.calendars import Calendars, settings_calendars
from domain.ports import IdentityIndex, SubjectKeys
from domain.services.base import utc_now
from domain.services.care import CareCommands
from domain.services.customers import CustomerCommands
from domain.services.engagement import EngagementCommands
from domain.services.feedback import FeedbackCommands
from domain.services.grading import GradingCommands
from domain.services.history import HistoryQueries
from domain.services.identity import EphemeralIdentityIndex
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
    race to a concurrent writer; registering an identity number another customer
    holds raises AlreadyRegistered, also when the two registrations race.
    """

    name = "Ledger"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        subject_keys: SubjectKeys | None = None,
        settings: RuleSettings | None = None,
        clock: Callable[[], datetime] | None = None,
        identity_index: IdentityIndex | None = None,
        calendars: Calendars | None = None,
    ) -> None:
        self.settings = settings if settings is not None else RuleSettings()
        # the business calendars (injected by the composition root, security.calendars);
        # without them, the settings' own tables, which cover only the years they list
        self.calendars = calendars if calendars is not None else settings_calendars(self.settings)
        self.subject_keys = subject_keys
        self.identity_index = (
            identity_index if identity_index is not None else EphemeralIdentityIndex()
        )
        self.clock = clock if clock is not None else utc_now
        self._written = threading.local()
        super().__init__(env)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """The library's save; also remembers, for this thread, the highest log position
        it has written (`last_written_position`), so a caller need not ask the store."""
        recordings = super().save(*objs, **kwargs)
        ids = [r.notification.id for r in recordings or ()]
        if ids:
            self._written.position = max(ids)
        return recordings

    @property
    def last_written_position(self) -> int | None:
        """The highest log position this thread's saves have written, or None."""
        return getattr(self._written, "position", None)

    def forget_written_position(self) -> None:
        """Start afresh (e.g. at the start of a request)."""
        self._written.position = None
