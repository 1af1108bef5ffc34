"""Every rule has a recorded version string of the form "<rule>/<n>"."""

from __future__ import annotations

import re

import pytest

from domain.errors import DomainError
from domain.rules import RULE_VERSIONS, RuleError

pytestmark = pytest.mark.unit


def test_every_rule_version_names_its_rule() -> None:
    assert len(RULE_VERSIONS) == 32
    for rule, version in RULE_VERSIONS.items():
        assert re.fullmatch(rf"{rule}/\d+", version)


def test_rule_error_is_a_domain_error_and_a_value_error_with_a_stable_code() -> None:
    error = RuleError("bad input")
    assert isinstance(error, DomainError) and isinstance(error, ValueError)
    assert error.code == "rule_error"
