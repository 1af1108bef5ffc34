"""Bearer-token authentication (signed JWT) and role checks.

Tokens are HS256 JWTs with issuer `LEDGER_JWT_ISSUER` (default `crm-ledger`),
audience `LEDGER_JWT_AUDIENCE` (default `crm-ledger-api`), an expiry, a non-empty
subject (the actor id), a `roles` claim and, for the front office, a `branch` claim
(the book of business, web/api/_book.py). A token may live at most
`LEDGER_TOKEN_MAX_LIFETIME` seconds (default 12 hours): longer ones are neither issued
nor accepted. The secret is `LEDGER_JWT_SECRET` / `LEDGER_JWT_SECRET_FILE` (at least 32
bytes) or, for development, derived from the keyring's index key so every process
sharing a keyring accepts the same tokens.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
from flask import Flask, current_app, g, request

from domain.errors import DomainError
from security.settings import Settings
from web.errors import Forbidden, Unauthenticated

ROLES = (
    "front_office",
    "relationship_manager",
    "compliance_officer",
    "security_officer",
    "regulator",
    "system",
)
ALL_ROLES = frozenset(ROLES)

# roles whose token must name the branch whose customers they act on
BRANCH_ROLES = frozenset({"front_office"})
DEFAULT_MAX_LIFETIME = 12 * 3600
MAX_BRANCH_LENGTH = 100

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    """Who is calling: actor id (token subject), roles and the token's branch (if any)."""

    actor_id: str
    roles: frozenset[str]
    branch: str | None = None

    def has_any(self, allowed: Iterable[str]) -> bool:
        return bool(self.roles & set(allowed))

    @property
    def role(self) -> str:
        """The caller's role recorded on events: the first of its roles in ROLES order."""
        return next(r for r in ROLES if r in self.roles)


@dataclass(frozen=True)
class TokenSettings:
    secret: bytes
    issuer: str = "crm-ledger"
    audience: str = "crm-ledger-api"
    max_lifetime: int = DEFAULT_MAX_LIFETIME

    @classmethod
    def from_settings(cls, settings: Settings, index_key: bytes) -> TokenSettings:
        """The token settings of the ledger's `Settings`; with no configured secret, one
        derived from the keyring's index key (so every process of a ledger agrees)."""
        secret = (
            settings.jwt_secret
            or hmac.new(index_key, b"crm-ledger/jwt/v1", hashlib.sha256).digest()
        )
        return cls(secret, settings.jwt_issuer, settings.jwt_audience, settings.token_max_lifetime)


def _branch_error(branch: object) -> str | None:
    """Why `branch` cannot be a token's branch claim; None when it can."""
    if not isinstance(branch, str) or not branch.strip():
        return "the branch must be a non-empty text"
    if len(branch) > MAX_BRANCH_LENGTH or not branch.isprintable():
        return f"the branch must be printable text of at most {MAX_BRANCH_LENGTH} characters"
    return None


def issue_token(
    settings: TokenSettings,
    subject: str,
    roles: Iterable[str],
    ttl: int = 3600,
    *,
    branch: str | None = None,
) -> str:
    """A signed token for `subject` with `roles` (and `branch`), valid `ttl` seconds.

    Refuses (DomainError) an empty subject, unknown roles, a lifetime over the maximum,
    a front-office token without a branch and a malformed branch."""
    roles = list(roles)
    unknown = set(roles) - ALL_ROLES
    if unknown or not roles:
        raise DomainError(f"unknown role(s): {', '.join(sorted(unknown)) or 'none given'}")
    if not subject or not subject.strip():
        raise DomainError("the subject must be a non-empty actor id")
    if ttl <= 0:
        raise DomainError("ttl must be positive")
    if ttl > settings.max_lifetime:
        raise DomainError(
            f"ttl {ttl} s is over the maximum token lifetime of {settings.max_lifetime} s "
            "(LEDGER_TOKEN_MAX_LIFETIME)"
        )
    if branch is None and BRANCH_ROLES & set(roles):
        raise DomainError("a front_office token needs --branch: the branch it works for")
    if branch is not None and (problem := _branch_error(branch)):
        raise DomainError(problem)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "roles": roles,
    }
    if branch is not None:
        claims["branch"] = branch
    return jwt.encode(claims, settings.secret, algorithm="HS256")


# Tokens already verified, with the times they are valid between: a client sends the
# same token with every request, and verifying it again (base64, JSON, HMAC, claims)
# is the same work each time. The key holds the whole token (its signature too) and
# the settings it was verified under; the validity window is checked on every use.
VERIFIED_CACHE_SIZE = 1024
_verified: dict[tuple[TokenSettings, str], tuple[Principal, float, float]] = {}


def decode_token(settings: TokenSettings, token: str) -> Principal:
    """Verify signature, issuer, audience and expiry; raise Unauthenticated otherwise.

    A token verified before under the same settings is not verified again; it is
    accepted only while now is inside its `nbf`..`exp` window, as on first use."""
    known = _verified.get((settings, token))
    if known is not None:
        principal, not_before, expires = known
        now = time.time()
        if not_before <= now < expires:
            return principal
        if now >= expires:
            _verified.pop((settings, token), None)
    principal, not_before, expires = _verify_token(settings, token)
    if len(_verified) >= VERIFIED_CACHE_SIZE:
        _verified.clear()  # a bounded memory; tokens are verified afresh
    _verified[(settings, token)] = (principal, not_before, expires)
    return principal


def _verify_token(settings: TokenSettings, token: str) -> tuple[Principal, float, float]:
    """The token's principal and validity window (`nbf` or `iat`, `exp`), verified."""
    try:
        claims = jwt.decode(
            token,
            settings.secret,
            algorithms=["HS256"],
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("the bearer token has expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the bearer token is not valid") from exc
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.strip():
        raise Unauthenticated("the bearer token names no subject")
    times = {name: claims[name] for name in ("exp", "iat", "nbf") if name in claims}
    if not all(_is_number(value) for value in times.values()):
        raise Unauthenticated("the bearer token's times are not numbers")
    lifetime = claims["exp"] - claims["iat"]
    if lifetime > settings.max_lifetime:
        raise Unauthenticated("the bearer token lives longer than this server allows")
    roles = claims.get("roles")
    if not isinstance(roles, list) or not roles or not set(roles) <= ALL_ROLES:
        raise Unauthenticated("the bearer token carries no known roles")
    branch = claims.get("branch")
    if branch is not None and _branch_error(branch):
        raise Unauthenticated("the bearer token's branch is not valid")
    # as PyJWT checks them (whole seconds: it takes int() of each): valid from `iat`
    # (and `nbf`, if any) until before `exp`
    not_before = max(int(claims["iat"]), int(claims.get("nbf", claims["iat"])))
    return (
        Principal(subject, frozenset(roles), branch),
        float(not_before),
        float(int(claims["exp"])),
    )


def _is_number(value: object) -> bool:
    """A JSON number (PyJWT also takes a numeric string, which this server refuses)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def current_principal() -> Principal:
    """The authenticated caller of this request (raises Unauthenticated if none)."""
    principal: Principal | None = getattr(g, "principal", None)
    if principal is not None:
        return principal
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a bearer token is required")
    principal = decode_token(current_app.extensions["token_settings"](), token.strip())
    g.principal = principal
    return principal


def authorize(roles: Iterable[str]) -> Principal:
    """Authenticate the caller and check it holds one of `roles`.

    Sets `g.acting_role`: the caller's first role (in ROLES order) that the endpoint
    allows, the role recorded on events and in the access log.
    """
    allowed = frozenset(roles)
    principal = current_principal()
    if not principal.has_any(allowed):
        raise Forbidden("your role may not use this endpoint")
    g.acting_role = next(r for r in ROLES if r in principal.roles and r in allowed)
    return principal


def acting_role() -> str:
    """The role the caller acts in for this request (see `authorize`)."""
    role: str | None = getattr(g, "acting_role", None)
    return role if role is not None else current_principal().role


def install(app: Flask) -> None:
    """Check roles before anything else of the request runs.

    Argument parsing (smorest) and idempotency come after, so a caller without a
    valid token or role learns nothing about the endpoint's input rules. An
    endpoint under /api/ that declares no roles is refused: access fails closed.
    """

    @app.before_request
    def check_roles() -> None:
        if request.endpoint is None or not request.path.startswith("/api/"):
            return
        if request.blueprint == "api-docs":  # the OpenAPI document and its viewer
            return
        view = current_app.view_functions.get(request.endpoint)
        if getattr(view, "public", False):  # declared with `public_endpoint`
            return
        roles = getattr(view, "allowed_roles", None)
        if roles is None:
            raise Forbidden("this endpoint declares no roles")
        authorize(roles)


def roles_allowed(*roles: str) -> Callable[[F], F]:
    """Declare the roles an endpoint allows; 401 without a token, 403 for other roles."""
    unknown = set(roles) - ALL_ROLES
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            authorize(roles)
            return func(*args, **kwargs)

        wrapper.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def public_endpoint(func: F) -> F:
    """Declare an endpoint that needs no token (it serves only public data, such as the
    logs' verifier keys); every role may use it, and so may anyone without one."""
    func.allowed_roles = ALL_ROLES  # type: ignore[attr-defined]
    func.public = True  # type: ignore[attr-defined]
    return func
