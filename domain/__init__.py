"""domain package of crm-ledger."""
