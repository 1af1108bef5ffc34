"""The keyed digest behind one record per person (domain.identity, `IdentityIndex`).

HMAC-SHA256 under a key derived from the keyring's index key, so the digest of a
number is the same in every process of a ledger and reveals nothing without the key.
The derivation label keeps these digests apart from the views' blind indexes: a claim's
id cannot be matched against a view column.
"""

from __future__ import annotations

import hashlib
import hmac

CLAIM_INFO = b"crm-ledger/identity-claim/v1"


class KeyedIdentityIndex:
    """Digests of canonical identity texts under the ledger's index key."""

    def __init__(self, index_key: bytes) -> None:
        self._key = hmac.new(index_key, CLAIM_INFO, hashlib.sha256).digest()

    def digest(self, text: str) -> str:
        """The hex HMAC-SHA256 of `text`. Guarantees: equal texts give equal digests;
        without the index key a digest reveals nothing about the text."""
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()
