"""Masking of personal data for display (DOMAIN.md): surname only, 3+4, 3+4, 6+4."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.masking import (
    mask,
    mask_address,
    mask_card,
    mask_date_of_birth,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
)
from domain.personal_data import Masking

pytestmark = pytest.mark.unit


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


def test_a_phone_keeps_the_first_3_and_last_4_digits() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138-1234-5678") == "138****5678"
    assert mask_phone("12345") == "*****"


def test_an_id_number_keeps_the_first_3_and_last_4() -> None:
    assert mask_id_number("11010119850615123X") == "110***********123X"


def test_a_card_keeps_the_first_6_and_last_4() -> None:
    assert mask_card("6222021234567890123") == "622202*********0123"
    assert mask_card("6222 0212 3456 7890") == "622202******7890"


def test_email_address_and_date_of_birth_masks() -> None:
    assert mask_email("wang.fang@example.cn") == "w***@example.cn"
    assert mask_address("北京市朝阳区建国路88号") == "北京市***"
    assert mask_address("12 High Street, London") == "***, London"
    assert mask_date_of_birth(date(1958, 4, 3)) == "1958-**-**"


def test_mask_dispatches_by_kind_and_hides_amounts_and_free_text() -> None:
    assert mask(Decimal("1234.56"), Masking.AMOUNT) == "***"
    assert mask("Waited 40 minutes", "free_text") == "***"
    assert mask("BJ-01", Masking.NONE) == "BJ-01"
    assert mask(None, Masking.PHONE) is None
    assert mask("13812345678", "phone") == "138****5678"


@given(st.text(alphabet="0123456789", min_size=8, max_size=20))
def test_a_masked_phone_reveals_at_most_seven_digits(number: str) -> None:
    masked = mask_phone(number)
    assert len(masked) == len(number)
    assert sum(ch.isdigit() for ch in masked) == 7
    assert masked[3:-4] == "*" * (len(number) - 7)


@given(st.text(alphabet="0123456789", min_size=11, max_size=19))
def test_a_masked_card_reveals_exactly_its_first_6_and_last_4(number: str) -> None:
    masked = mask_card(number)
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert set(masked[6:-4]) == {"*"}


@given(st.text(alphabet=st.characters(blacklist_characters="*"), min_size=1, max_size=40))
def test_masking_never_returns_the_whole_value_for_identifying_kinds(value: str) -> None:
    for kind in (Masking.PHONE, Masking.ID_NUMBER, Masking.CARD, Masking.AMOUNT, Masking.FREE_TEXT):
        assert mask(value, kind) != value
