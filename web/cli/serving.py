"""Production serving with gunicorn (`ledger serve`): the app and its ledger are built in
each worker, after the fork, and each worker runs a sealer thread (only the one holding
the store's sealer lock seals; security/integrity/sealer.py)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from web.logs import GUNICORN_ACCESS_FORMAT


class LedgerServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application whose workers each call the app factory after forking."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from security.integrity.sealer import start_sealer
        from web.app import create_app

        app = create_app()
        start_sealer()  # in this worker, after the fork: builds its own ledger
        return app


# Threads per worker by default: gthread, chosen by measurement (docs/api.md "Performance").
DEFAULT_THREADS = 4
MAX_THREADS = 256  # a thread a request; far more than one worker's store connections serve


def run_gunicorn(host: str, port: int, workers: int, threads: int = DEFAULT_THREADS) -> None:
    """Serve on host:port with `workers` processes (no preload: one ledger per worker),
    each with `threads` request threads."""
    LedgerServer(gunicorn_options(host, port, workers, threads)).run()


def gunicorn_options(
    host: str, port: int, workers: int, threads: int = DEFAULT_THREADS
) -> dict[str, Any]:
    """The gunicorn settings of `ledger serve`: the `sync` worker class for one thread a
    worker, `gthread` (threads sharing the worker's ledger, keep-alive) for more."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread" if threads > 1 else "sync",
        "threads": threads,
        "preload_app": False,
        "accesslog": None,
        # should an operator turn the access log on: paths, never query strings
        "access_log_format": GUNICORN_ACCESS_FORMAT,
        "timeout": 60,
    }


def threads_from_env() -> int:
    """LEDGER_WEB_THREADS (a whole number from 1 to MAX_THREADS), else DEFAULT_THREADS."""
    import os

    import click

    value = os.environ.get("LEDGER_WEB_THREADS", "").strip()
    if not value:
        return DEFAULT_THREADS
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_THREADS:
        raise click.UsageError(f"LEDGER_WEB_THREADS must be a whole number from 1 to {MAX_THREADS}")
    return int(value)
