"""Encrypted view fields and blind indexes, and the small pure helpers of the views."""

from __future__ import annotations

import secrets

import pytest

from domain.errors import SubjectErased, ValidationFailed
from projections.field_encryption import BlindIndex, FieldCipher
from projections.kpi_queries import months
from projections.paging import Where, order_by
from security.errors import EventAuthenticationFailed

pytestmark = pytest.mark.unit


class Keys:
    """A key store double: DEKs by reference, shreddable."""

    def __init__(self) -> None:
        self.deks = {"dek-a": secrets.token_bytes(32), "dek-b": secrets.token_bytes(32)}

    def dek_by_ref(self, ref: str) -> bytes:
        if ref not in self.deks:
            raise SubjectErased("shredded")
        return self.deks[ref]


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def cipher(keys: Keys) -> FieldCipher:
    return FieldCipher(keys)  # type: ignore[arg-type]


def test_a_sealed_field_opens_with_its_subject_key_and_seals_deterministically(
    cipher: FieldCipher,
) -> None:
    data = {"name": "Wenjing Quillborough", "phone": "13912398765"}
    encrypted = cipher.encrypt("dek-a", "c-1", "pv_customer", data)
    assert b"Quillborough" not in encrypted and b"13912398765" not in encrypted
    assert cipher.decrypt("dek-a", "c-1", "pv_customer", encrypted) == data
    assert (
        cipher.encrypt("dek-a", "c-1", "pv_customer", data) == encrypted
    )  # rebuilds are identical
    assert cipher.encrypt("dek-a", "c-1", "pv_customer", {**data, "phone": "1"}) != encrypted


def test_a_sealed_field_cannot_be_moved_to_another_row_table_or_key(cipher: FieldCipher) -> None:
    encrypted = cipher.encrypt("dek-a", "c-1", "pv_customer", {"name": "x"})
    elsewhere = [("dek-a", "c-2", "pv_customer"), ("dek-a", "c-1", "pv_case")]
    for ref, subject, table in [*elsewhere, ("dek-b", "c-1", "pv_customer")]:
        with pytest.raises(EventAuthenticationFailed):
            cipher.decrypt(ref, subject, table, encrypted)
    with pytest.raises(EventAuthenticationFailed):
        cipher.decrypt("dek-a", "c-1", "pv_customer", encrypted[:-1] + bytes([encrypted[-1] ^ 1]))


def test_shredding_the_subject_key_makes_its_sealed_fields_unreadable(
    cipher: FieldCipher, keys: Keys
) -> None:
    encrypted = cipher.encrypt("dek-a", "c-1", "pv_customer", {"name": "x"})
    del keys.deks["dek-a"]
    with pytest.raises(SubjectErased):
        cipher.decrypt("dek-a", "c-1", "pv_customer", encrypted)
    assert cipher.try_decrypt("dek-a", "c-1", "pv_customer", encrypted) is None
    assert cipher.try_decrypt(None, "c-1", "pv_customer", None) is None


def test_blind_indexes_match_what_a_clerk_types_and_depend_on_the_key() -> None:
    index = BlindIndex(b"k" * 32)
    assert index.digest("phone", "139-1239 8765") == index.digest("phone", "13912398765")
    assert index.digest("phone", "+8613912398765") == index.digest("phone", "8613912398765")
    assert index.digest("email", " Q.W@Example.CN ") == index.digest("email", "q.w@example.cn")
    assert index.digest("id_number", "110105 19491231 002x") == index.digest(
        "id_number", "11010519491231002X"
    )
    digest = index.digest("phone", "13912398765")
    assert digest is not None and len(digest) == 32 and "8765" not in digest
    assert index.digest("email", "13912398765") != digest  # one key per field
    assert BlindIndex(b"j" * 32).digest("phone", "13912398765") != digest
    assert index.digest("phone", None) is None
    assert index.digest("phone", "  ") is None


def test_sorting_accepts_only_declared_columns_and_keeps_nulls_last() -> None:
    allowed = {"due_at": "due_at", "tier": "tier"}
    clause = order_by("-due_at,tier", allowed, "due_at", "id")
    assert clause == (" ORDER BY (due_at) IS NULL, due_at DESC, (tier) IS NULL, tier ASC, id")
    with pytest.raises(ValidationFailed):
        order_by("name; DROP TABLE x", allowed, "due_at", "id")
    where = Where().equal("a", 1).equal("b", None).one_of("c", ())
    assert (where.sql, where.params) == (" WHERE a=? AND 1=0", [1])


def test_kpi_periods_are_calendar_months() -> None:
    assert months("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    with pytest.raises(ValidationFailed):
        months("2026-03", "2026-02")
    with pytest.raises(ValidationFailed):
        months("March", "2026-02")


def test_a_remembering_cipher_opens_what_it_sealed_as_the_plain_one_and_still_refuses(
    keys: Keys,
) -> None:
    plain = FieldCipher(keys)  # type: ignore[arg-type]
    remembering = FieldCipher(keys, remember=True)  # type: ignore[arg-type]
    data = {"name": "Wenjing Quillborough", "needs": ["a", "b"]}
    sealed = remembering.encrypt("dek-a", "c-1", "pv_customer", data)
    assert sealed == plain.encrypt("dek-a", "c-1", "pv_customer", data)
    opened = remembering.decrypt("dek-a", "c-1", "pv_customer", sealed)
    assert opened == data
    opened["name"] = "changed"  # a handler merging into what it opened changes no copy
    assert remembering.decrypt("dek-a", "c-1", "pv_customer", sealed) == data
    for ref, subject, table in [("dek-a", "c-2", "pv_customer"), ("dek-b", "c-1", "pv_customer")]:
        with pytest.raises(EventAuthenticationFailed):
            remembering.decrypt(ref, subject, table, sealed)
    del keys.deks["dek-a"]  # shredded: what it remembers does not open it
    with pytest.raises(SubjectErased):
        remembering.decrypt("dek-a", "c-1", "pv_customer", sealed)
    remembering.forget()
    assert remembering._sealed == {}
