"""scheduler package of crm-ledger."""
