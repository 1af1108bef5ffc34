"""The personal-data registry: complete, and C3 refused at the domain boundary."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import pytest
from eventsourcing.utils import get_topic, resolve_topic
from hypothesis import given
from hypothesis import strategies as st

import domain
from domain.application import LedgerApplication
from domain.customer import ProfileFieldChanged
from domain.errors import C3DataRefused
from domain.events import LedgerAggregate, LedgerEvent
from domain.masking import mask
from domain.personal_data import (
    AGGREGATE_PERSONAL_FIELDS,
    EVENT_PERSONAL_FIELDS,
    DataClass,
    Masking,
    contains_c3_text,
    field_classes,
    is_c3_name,
    personal_attributes,
    personal_fields,
    refuse_c3_values,
)
from tests.domain.factories import FRONT, RM, SYSTEM, grant_marketing, individual, recorded

pytestmark = pytest.mark.unit


def _domain_classes(base: type) -> set[type]:
    found: set[type] = set()
    for info in pkgutil.walk_packages(domain.__path__, "domain."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, base)
                and value.__module__ == module.__name__
                and value not in (LedgerEvent, LedgerAggregate)
                and dataclasses.is_dataclass(value) == (base is LedgerEvent)
            ):
                found.add(value)
    return found


EVENT_CLASSES = sorted(
    (c for c in _domain_classes(LedgerEvent) if not c.__name__.endswith(("Event", "Fact"))),
    key=get_topic,
)


def test_every_event_of_the_domain_is_declared() -> None:
    declared = set(EVENT_PERSONAL_FIELDS)
    assert {get_topic(c) for c in EVENT_CLASSES} <= declared
    assert len(EVENT_CLASSES) >= 60


def test_every_declared_topic_and_field_exists() -> None:
    for topic, names in EVENT_PERSONAL_FIELDS.items():
        cls = resolve_topic(topic)
        field_names = {f.name for f in dataclasses.fields(cls)}
        assert set(names) <= field_names, topic
    for topic in AGGREGATE_PERSONAL_FIELDS:
        assert isinstance(resolve_topic(topic), type), topic


def test_every_field_of_every_event_has_a_class() -> None:
    for cls in EVENT_CLASSES:
        classes = field_classes(cls)
        assert set(classes) == {f.name for f in dataclasses.fields(cls)}
        assert classes["actor_id"].classification is DataClass.C1


def test_registration_fields_are_classed_and_masked_by_kind() -> None:
    fields = personal_fields("domain.customer:CustomerRegistered")
    assert fields["name"].masking is Masking.NAME
    assert fields["phone"].masking is Masking.PHONE
    assert fields["account_number"].masking is Masking.CARD
    assert fields["date_of_birth"].masking is Masking.DATE_OF_BIRTH
    assert "branch" not in fields and "credit_code" not in fields
    assert personal_fields("domain.kyc:IdentityDocumentRecorded")["doc_number"].masking is (
        Masking.ID_NUMBER
    )
    assert personal_attributes("domain.customer:Customer")["email"].masking is Masking.EMAIL


def test_special_care_reasons_are_health_data_masked_as_care_applies() -> None:
    reasons = personal_fields("domain.customer:SpecialCareFlagged")["reasons"]
    assert reasons.classification is DataClass.C2
    assert reasons.masking is Masking.CARE_REASONS
    assert personal_attributes("domain.customer:Customer")["special_care"] == reasons
    assert mask(["disabled", "elderly"], reasons.masking) == ["***"]
    assert field_classes("domain.customer:SpecialCareFlagged")["measures"].personal is False


def test_a_profile_change_is_personal_when_the_field_is(app: LedgerApplication) -> None:
    customer_id = individual(app)
    app.change_profile(customer_id, "phone", "13900001111", RM)
    app.change_profile(customer_id, "branch", "BJ-02", RM)
    phone_change, branch_change = app.events_of(customer_id)[-2:]
    assert isinstance(phone_change, ProfileFieldChanged)
    assert personal_fields(phone_change)["value"].masking is Masking.PHONE
    assert personal_fields(branch_change) == {}
    assert personal_fields(ProfileFieldChanged)["value"].masking is Masking.FREE_TEXT


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "PIN",
        "pin_code",
        "loginPassword",
        "cvv",
        "CVV2",
        "card_security_code",
        "fingerprint",
        "login_biometrics",
        "交易密码",
    ],
)
def test_c3_field_names_are_recognised(name: str) -> None:
    assert is_c3_name(name)


@pytest.mark.parametrize(
    "name", ["name", "phone", "spinning", "opinion", "account_number", "email"]
)
def test_ordinary_field_names_are_not_c3(name: str) -> None:
    assert not is_c3_name(name)


@pytest.mark.parametrize(
    ("text", "c3"),
    [
        ("my PIN is 4821", True),
        ("password: hunter2", True),
        ("CVV 123 on the back", True),
        ("密码是123456", True),
        ("PIN码是123456", True),
        ("忘记PIN码了", False),
        ("I forgot my password and the app locked me out", False),
        ("the PIN was reset at the branch on 3 May", False),
        ("忘记密码了", False),
        ("card 6222 0212 3456 7890", False),
    ],
)
def test_free_text_disclosing_a_secret_is_recognised(text: str, c3: bool) -> None:
    assert contains_c3_text(text) is c3


def test_c3_is_refused_at_registration_and_nothing_is_recorded(app: LedgerApplication) -> None:
    with pytest.raises(C3DataRefused) as refused:
        app.register_customer(
            "individual", {"name": "Ann Lee", "branch": "HK-1", "password": "s3cret!"}, FRONT
        )
    assert refused.value.code == "c3_refused"
    assert "s3cret" not in refused.value.message
    assert recorded(app) == 0


def test_c3_is_refused_in_free_text_anywhere(app: LedgerApplication) -> None:
    customer_id = individual(app)
    grant_marketing(app, customer_id)
    before = recorded(app)
    with pytest.raises(C3DataRefused):
        app.receive_feedback(customer_id, "complaint", "fees", "My PIN is 4821, fix it", FRONT)
    with pytest.raises(C3DataRefused):
        app.log_interaction(customer_id, "phone", "inbound", "service", "login", "pwd=abc123", RM)
    with pytest.raises(C3DataRefused):
        app.change_profile(customer_id, "payment_password", "x", RM)
    survey_id = app.send_survey(customer_id, "CSAT", SYSTEM)
    with pytest.raises(C3DataRefused):
        app.answer_survey(survey_id, 5, SYSTEM, verbatim="cvv 321 worked fine")
    assert recorded(app) == before + 1  # only the survey


def test_c3_keys_inside_nested_inputs_are_refused(app: LedgerApplication) -> None:
    customer_id = individual(app)
    with pytest.raises(C3DataRefused):
        app.assign_risk_rating(customer_id, "low", RM, factors=["pin"])


@given(st.text(max_size=200))
def test_refusal_messages_never_echo_the_input(text: str) -> None:
    with pytest.raises(C3DataRefused) as refused:
        refuse_c3_values("Probe", {"narrative": text + " password: 1" + text})
    assert refused.value.message == "Probe: text discloses authentication data (C3)"
