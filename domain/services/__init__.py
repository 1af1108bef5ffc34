"""The commands and queries of `LedgerApplication`, one mixin per policy chapter."""
