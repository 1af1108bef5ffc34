"""The one error a rule raises: its inputs are outside what the rule is defined for."""

from __future__ import annotations

from domain.errors import DomainError


class RuleError(DomainError, ValueError):
    """A rule was given an input it is not defined for (unknown code, value out of range)."""

    code = "rule_error"
