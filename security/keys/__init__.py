"""Keys: the keyring (KEKs, log signing key, blind-index key), per-subject data keys
wrapped by a KEK, and the envelope encryption of stored events under them."""
