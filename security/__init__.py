"""security package of crm-ledger."""
