"""web package of crm-ledger."""
