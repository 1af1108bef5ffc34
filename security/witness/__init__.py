"""A C2SP tlog-witness (`ledger witness serve`) and the ledger's witness client.

- `state`: the witness's key and per-origin state in its own folder, no database;
- `server`: the `add-checkpoint` HTTP endpoint (stdlib http.server);
- `client`: the ledger submitting each new checkpoint to `LEDGER_WITNESSES`.
"""
