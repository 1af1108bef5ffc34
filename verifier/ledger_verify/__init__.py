"""The regulator's verifier: RFC 9162 Merkle proofs, C2SP signed notes and checkpoints,
the leaf encoding and offline bundle verification. Depends on `cryptography` only, so a
regulator installs it without the server (docs/export-format.md)."""

__version__ = "0.1.0"
