"""The envelope format and key derivation, against independent implementations."""

from __future__ import annotations

import zlib
from uuid import UUID, uuid4

import pytest
import rfc8785
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from ledger_verify.canonical import canonical_json
from ledger_verify.leaf import associated_data, event_key, event_key_from_prk, hkdf_extract
from security.errors import EventAuthenticationFailed
from security.keys.envelope import Envelope, decrypt_with_event_key, leaf_bytes

pytestmark = pytest.mark.unit

ascii_keys = st.text(alphabet=st.characters(max_codepoint=127), min_size=1, max_size=12)
values = st.one_of(st.text(max_size=40), st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1))


@given(st.dictionaries(ascii_keys, values, max_size=10))
def test_canonical_json_agrees_with_rfc8785(obj: dict[str, str | int]) -> None:
    assert canonical_json(obj) == rfc8785.dumps(obj)


def test_canonical_json_refuses_what_it_cannot_canonicalise() -> None:
    for bad in ({"a": 1.5}, {"a": True}, {"é": 1}, {"a": 2**60}, {"a": None}):
        with pytest.raises(ValueError):
            canonical_json(bad)  # type: ignore[arg-type]


@given(st.binary(min_size=32, max_size=32), st.uuids(), st.integers(1, 2**40))
def test_event_key_is_rfc5869_hkdf_sha256(dek: bytes, originator: UUID, version: int) -> None:
    info = str(originator).encode() + version.to_bytes(8, "big")
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(dek)
    assert event_key(dek, originator, version) == expected


@given(
    st.one_of(st.uuids(), st.text(max_size=40)),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.text(max_size=60),
)
def test_associated_data_is_the_rfc8785_json_of_id_version_and_topic(
    originator: UUID | str, version: int, topic: str
) -> None:
    expected = {"originator_id": str(originator), "originator_version": version, "topic": topic}
    assert associated_data(originator, version, topic) == rfc8785.dumps(expected)
    assert associated_data(originator, version, topic) == canonical_json(expected)


def test_associated_data_refuses_what_canonical_json_refuses() -> None:
    originator = uuid4()
    for version, topic in ((True, "t"), (2**60, "t"), (1.0, "t"), (1, None), (1, 1.5)):
        with pytest.raises(ValueError):
            associated_data(originator, version, topic)  # type: ignore[arg-type]


@given(st.binary(min_size=32, max_size=32), st.uuids(), st.integers(1, 2**40))
def test_an_event_key_from_the_cached_extract_is_the_event_key(
    dek: bytes, originator: UUID, version: int
) -> None:
    assert event_key_from_prk(hkdf_extract(dek), originator, version) == event_key(
        dek, originator, version
    )


def test_envelope_round_trip_and_tamper_refusal() -> None:
    originator, topic = uuid4(), "domain.customer:Customer.Registered"
    key = bytes(range(32))
    plaintext = zlib.compress(b'{"name":"x"}' * 20)
    aad = associated_data(originator, 3, topic)
    assert aad == rfc8785.dumps(
        {"originator_id": str(originator), "originator_version": 3, "topic": topic}
    )
    nonce = bytes(12)
    env = Envelope("dek-abc", "zlib", nonce, AESGCM(key).encrypt(nonce, plaintext, aad))
    again = Envelope.unpack(env.pack())
    assert again == env
    assert decrypt_with_event_key(key, again, originator, 3, topic) == b'{"name":"x"}' * 20
    with pytest.raises(EventAuthenticationFailed):  # moved to another version
        decrypt_with_event_key(key, again, originator, 4, topic)
    with pytest.raises(EventAuthenticationFailed):  # moved to another topic
        decrypt_with_event_key(key, again, originator, 3, topic + "X")
    with pytest.raises(EventAuthenticationFailed):
        Envelope.unpack(b"not an envelope at all, just bytes")


def test_leaf_bytes_are_the_rfc8785_json_of_the_stored_row() -> None:
    originator = uuid4()
    env = Envelope("dek-1", "none", b"\x01" * 12, b"\x02" * 20)
    leaf = leaf_bytes(7, 9, originator, 2, "t:T", env.pack())
    assert leaf == rfc8785.dumps(
        {
            "seq": 7,
            "notification_id": 9,
            "originator_id": str(originator),
            "originator_version": 2,
            "topic": "t:T",
            "key_ref": "dek-1",
            "nonce": "AQEBAQEBAQEBAQEB",
            "ciphertext": "AgICAgICAgICAgICAgICAgICAgI=",
            "compression": "none",
        }
    )
