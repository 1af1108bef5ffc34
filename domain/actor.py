"""Who does a thing, through which channel, and why: carried into every event."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import NotPermitted, ValidationFailed

ROLES: frozenset[str] = frozenset(
    {
        "front_office",
        "relationship_manager",
        "compliance_officer",
        "security_officer",
        "regulator",
        "system",
    }
)


@dataclass(frozen=True)
class Actor:
    """The person or process behind a command.

    Guarantees: `actor_id` is non-empty and `role` is one of `ROLES`. `reason` is the
    legal basis or justification recorded with the event; it must not hold personal data.
    """

    actor_id: str
    role: str
    channel: str = "system"
    reason: str | None = None

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        if not self.actor_id:
            errors["actor_id"] = "required"
        if self.role not in ROLES:
            errors["role"] = f"one of {', '.join(sorted(ROLES))}"
        if not self.channel:
            errors["channel"] = "required"
        if errors:
            raise ValidationFailed(errors)

    def require_role(self, *roles: str) -> None:
        """Raise NotPermitted unless the actor holds one of `roles` (or is the system)."""
        if self.role not in roles and self.role != "system":
            raise NotPermitted(f"role {self.role!r} may not do this")


SYSTEM = Actor("system", "system", "system")
"""The ledger itself: scheduled jobs and follow-on events."""
