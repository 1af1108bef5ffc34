"""projections package of crm-ledger."""
