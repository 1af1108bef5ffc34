"""Bearer tokens verified once per server, not once per request: a token seen before is
still held to its validity window, and only the very same token under the very same
settings is taken as verified."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, tzinfo

import jwt
import jwt.api_jwt
import pytest

from web import auth
from web.auth import TokenSettings, decode_token, issue_token
from web.errors import Unauthenticated

pytestmark = pytest.mark.unit

SETTINGS = TokenSettings(b"k" * 32)


@pytest.fixture(autouse=True)
def no_verified_tokens() -> Iterator[None]:
    auth._verified.clear()
    yield
    auth._verified.clear()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The time as web.auth (time.time) and PyJWT (datetime.now) see it."""
    fake = Clock(1_800_000_000.0)

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> FrozenDatetime:
            return cls.fromtimestamp(fake.now, tz)

    monkeypatch.setattr(auth.time, "time", fake)
    monkeypatch.setattr(jwt.api_jwt, "datetime", FrozenDatetime)
    return fake


def test_a_token_is_verified_once_and_then_recognised(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token(SETTINGS, "co-1", ["compliance_officer"], 600)
    calls = []
    real = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = decode_token(SETTINGS, token)
    again = decode_token(SETTINGS, token)
    assert first == again and first.actor_id == "co-1"
    assert len(calls) == 1


def test_a_recognised_token_is_refused_once_it_expires(clock: Clock) -> None:
    token = issue_token(SETTINGS, "co-1", ["compliance_officer"], 60)
    assert decode_token(SETTINGS, token).actor_id == "co-1"
    clock.now += 59
    assert decode_token(SETTINGS, token).actor_id == "co-1"
    clock.now += 1  # exp itself is past (as PyJWT counts it)
    with pytest.raises(Unauthenticated, match="expired"):
        decode_token(SETTINGS, token)
    assert not auth._verified  # an expired token is forgotten


def test_a_token_not_yet_valid_is_never_taken_as_verified(clock: Clock) -> None:
    claims = {
        "iss": SETTINGS.issuer,
        "aud": SETTINGS.audience,
        "sub": "co-1",
        "iat": int(clock.now),
        "nbf": int(clock.now) + 30,
        "exp": int(clock.now) + 60,
        "roles": ["compliance_officer"],
    }
    token = jwt.encode(claims, SETTINGS.secret, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        decode_token(SETTINGS, token)
    clock.now += 30
    assert decode_token(SETTINGS, token).actor_id == "co-1"


def test_a_recognised_token_with_another_signature_or_secret_is_refused() -> None:
    token = issue_token(SETTINGS, "co-1", ["compliance_officer"], 600)
    decode_token(SETTINGS, token)
    head, body, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    with pytest.raises(Unauthenticated):
        decode_token(SETTINGS, f"{head}.{body}.{flipped}")
    other = TokenSettings(b"o" * 32)
    with pytest.raises(Unauthenticated):
        decode_token(other, token)
    stricter = TokenSettings(SETTINGS.secret, audience="another-api")
    with pytest.raises(Unauthenticated):
        decode_token(stricter, token)


def test_the_memory_of_verified_tokens_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "VERIFIED_CACHE_SIZE", 3)
    tokens = [issue_token(SETTINGS, f"co-{i}", ["compliance_officer"], 600) for i in range(7)]
    for token in tokens:
        assert decode_token(SETTINGS, token).actor_id.startswith("co-")
        assert len(auth._verified) <= 3


def _signed(clock: Clock, **times: object) -> str:
    claims = {
        "iss": SETTINGS.issuer,
        "aud": SETTINGS.audience,
        "sub": "co-1",
        "iat": int(clock.now),
        "exp": int(clock.now) + 60,
        "roles": ["compliance_officer"],
        **times,
    }
    return jwt.encode(claims, SETTINGS.secret, algorithm="HS256")


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_a_time_that_is_not_a_number_is_refused_not_a_crash(clock: Clock, claim: str) -> None:
    """PyJWT takes a numeric string for a time; this server refuses it with a 401
    (it was a TypeError, a 500, once the token was checked)."""
    token = _signed(clock, **{claim: str(int(clock.now) + (60 if claim == "exp" else 0))})
    with pytest.raises(Unauthenticated):
        decode_token(SETTINGS, token)
    token = _signed(clock, **{claim: True})
    with pytest.raises(Unauthenticated):
        decode_token(SETTINGS, token)


def test_a_fractional_expiry_ends_on_its_whole_second_from_the_memory_too(clock: Clock) -> None:
    """PyJWT counts `exp` in whole seconds (int()): a remembered token ends at the same
    moment as a token checked afresh."""
    expires = int(clock.now) + 60
    token = _signed(clock, exp=expires + 0.5)
    assert decode_token(SETTINGS, token).actor_id == "co-1"  # remembered
    clock.now = expires + 0.1
    fresh = _signed(clock, exp=expires + 0.5, iat=int(clock.now) - 60)
    with pytest.raises(Unauthenticated):
        decode_token(SETTINGS, fresh)
    with pytest.raises(Unauthenticated):
        decode_token(SETTINGS, token)
