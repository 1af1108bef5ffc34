"""Production serving with gunicorn (`ledger serve`): the app and its ledger are built in
each worker, after the fork."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class LedgerServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application whose workers each call the app factory after forking."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from web.app import create_app

        return create_app()


def run_gunicorn(host: str, port: int, workers: int) -> None:
    """Serve on host:port with `workers` processes (no preload: one ledger per worker)."""
    LedgerServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "preload_app": False,
            "accesslog": None,
            "timeout": 60,
        }
    ).run()
