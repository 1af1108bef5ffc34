"""Integrity: the sealed Merkle log with signed checkpoints, its verification, and the
access log (a second, separately sealed log of every read of personal data)."""
