"""Masking of personal data for display (DOMAIN.md): at most 4 visible characters of any
identifier, fewer when it is short; never the birth date or gender digit of a resident ID."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.masking import (
    mask,
    mask_address,
    mask_card,
    mask_care_reasons,
    mask_date_of_birth,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    visible_budget,
)
from domain.personal_data import FIELD_KINDS, Masking

pytestmark = pytest.mark.unit

IDENTIFIER_KINDS = (Masking.PHONE, Masking.ID_NUMBER, Masking.CARD)
# 1-based positions of a resident ID number that must never show: the birth date and
# the sequence digit that gives the gender
NEVER_VISIBLE = {18: (*range(7, 15), 17), 15: (*range(7, 13), 15)}


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张伟", "张*"),
        ("欧阳娜娜", "欧***"),
        ("John Smith", "*** Smith"),
        ("Mary Ann van Dyke", "*** Dyke"),
        ("Smith, John", "Smith, ***"),
        ("Madonna", "M***"),
        ("", ""),
    ],
)
def test_a_name_keeps_the_surname_only(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_phone_keeps_its_last_4_digits_and_a_short_one_its_last_2() -> None:
    assert mask_phone("13812345678") == "*******5678"
    assert mask_phone("138-1234-5678") == "*******5678"
    assert mask_phone("91234567") == "******67"  # the 8-digit `912*4567` of issue 13
    assert mask_phone("12345") == "****5"
    assert mask_phone("12") == "**"


def test_a_resident_id_keeps_its_first_and_check_character_only() -> None:
    assert mask_id_number("11010119850615123X") == "1****************X"
    assert mask_id_number("110101850615123") == "1**************"


def test_a_passport_account_or_card_keeps_the_last_4_or_2_when_short() -> None:
    assert mask_id_number("E98765432") == "*******32"  # the `E98**5432` of issue 13
    assert mask_card("123456789012") == "********9012"  # the `123456**9012` of issue 13
    assert mask_card("6222 0212 3456 7890") == "************7890"
    assert mask_card("123456") == "****56"


def test_email_address_and_date_of_birth_masks() -> None:
    assert mask_email("wang.fang@example.cn") == "w***@example.cn"
    assert mask_email("wf@example.cn") == "***@example.cn"
    assert mask_address("北京市朝阳区建国路88号") == "北京市***"
    assert mask_address("12 High Street, London") == "***, London"
    assert mask_date_of_birth(date(1958, 4, 3)) == "1958-**-**"


def test_care_reasons_show_that_care_applies_never_which() -> None:
    assert mask_care_reasons(["disabled"]) == mask_care_reasons(["elderly"]) == ["***"]
    assert mask_care_reasons(["disabled", "elderly"]) == ["***"]
    assert mask_care_reasons([]) == []


def test_mask_dispatches_by_kind_and_hides_amounts_and_free_text() -> None:
    assert mask(Decimal("1234.56"), Masking.AMOUNT) == "***"
    assert mask("Waited 40 minutes", "free_text") == "***"
    assert mask("BJ-01", Masking.NONE) == "BJ-01"
    assert mask(None, Masking.PHONE) is None
    assert mask("13812345678", "phone") == "*******5678"


def bound(length: int) -> int:
    """DOMAIN.md: at most 4; under 10 characters at most 2, and never a third or more."""
    return 4 if length >= 10 else min(2, length // 3)


def test_the_budget_is_4_at_most_and_2_under_10_characters() -> None:
    assert [visible_budget(n) for n in range(1, 13)] == [0, 0, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4]
    assert all(visible_budget(n) <= bound(n) for n in range(1, 200))


IDENTIFIERS = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.text(alphabet="0123456789ABCDEFGHXYZ", min_size=n, max_size=n)
)


@given(IDENTIFIERS)
def test_no_identifier_of_any_length_shows_more_than_its_budget(value: str) -> None:
    for kind in IDENTIFIER_KINDS:
        masked = mask(value, kind)
        assert len(masked) == len(value)
        visible = [i for i, ch in enumerate(masked) if ch != "*"]
        assert len(visible) <= bound(len(value)), (kind, value, masked)
        assert all(masked[i] == value[i] for i in visible)


@given(IDENTIFIERS)
def test_a_resident_id_never_shows_its_birth_date_or_gender_digit(value: str) -> None:
    masked = mask_id_number(value)
    for position in NEVER_VISIBLE.get(len(value), ()):
        assert masked[position - 1] == "*", (value, masked, position)


@given(
    st.lists(st.sampled_from("0123456789X"), min_size=18, max_size=18),
    st.lists(st.sampled_from(" -"), min_size=0, max_size=4),
)
def test_separators_never_shift_what_a_resident_id_shows(chars: list[str], seps: list[str]) -> None:
    plain = "".join(chars)
    spaced = plain[:6] + "".join(seps) + plain[6:]
    assert mask_id_number(spaced) == mask_id_number(plain) == plain[0] + "*" * 16 + plain[-1]


@given(st.text(alphabet=st.characters(blacklist_characters="*"), min_size=1, max_size=40))
def test_masking_never_returns_the_whole_value_for_identifying_kinds(value: str) -> None:
    for kind in (Masking.PHONE, Masking.ID_NUMBER, Masking.CARD, Masking.AMOUNT, Masking.FREE_TEXT):
        assert mask(value, kind) != value


@given(st.text(alphabet="abcdefghij.", min_size=1, max_size=30))
def test_an_email_shows_at_most_one_character_of_its_local_part(local: str) -> None:
    masked = mask_email(f"{local}@example.cn")
    assert masked.endswith("***@example.cn")
    assert len(masked) - len("***@example.cn") <= (1 if len(local) >= 3 else 0)


def test_docs_api_tables_the_mask_of_every_personal_field() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    table = text.split("<!-- mask-table:start -->")[1].split("<!-- mask-table:end -->")[0]
    documented: dict[str, str] = {}
    for line in table.splitlines()[3:]:
        kind, fields = (cell.strip() for cell in line.strip("|").split("|")[:2])
        for name in fields.split(","):
            documented[name.strip().split()[0].strip("`")] = kind
    assert documented == {name: fc.masking.value for name, fc in FIELD_KINDS.items()}
