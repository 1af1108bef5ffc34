"""RFC 8785 (JCS) canonical JSON for the ledger's own flat objects, fast.

The leaf and associated-data objects hold only ASCII keys, strings and integers
below 2**53. For those, JCS is exactly `json.dumps` with sorted keys, no spaces
and no ASCII escaping (JCS escapes only `"`, `\\` and control characters, as
`json.dumps` does, with lowercase hex). Anything else is refused here and should
go through the `rfc8785` package; tests check the two agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

MAX_SAFE_INTEGER = 2**53 - 1

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def canonical_json(obj: Mapping[str, str | int]) -> bytes:
    """RFC 8785 bytes of a flat object of ASCII keys, strings and safe integers."""
    for key, value in obj.items():
        if not key.isascii():
            raise ValueError(f"canonical_json: key {key!r} is not ASCII")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"canonical_json: value of {key!r} is not a string or integer")
        if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"canonical_json: integer {key!r} is outside the JSON safe range")
    return _encoder.encode(obj).encode("utf-8")
