"""`ledger serve --threads`: gunicorn's worker class follows the threads per worker."""

from __future__ import annotations

import click
import pytest

from web.cli.serving import DEFAULT_THREADS, gunicorn_options, threads_from_env

pytestmark = pytest.mark.unit


def test_one_thread_is_the_sync_worker_and_more_the_gthread_worker() -> None:
    one = gunicorn_options("127.0.0.1", 8000, 2, 1)
    assert (one["worker_class"], one["threads"], one["workers"]) == ("sync", 1, 2)
    four = gunicorn_options("127.0.0.1", 8000, 2, 4)
    assert (four["worker_class"], four["threads"], four["workers"]) == ("gthread", 4, 2)
    assert four["preload_app"] is False  # one ledger per worker, built after the fork


def test_threads_come_from_the_environment_or_the_measured_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEDGER_WEB_THREADS", raising=False)
    assert threads_from_env() == DEFAULT_THREADS
    assert gunicorn_options("h", 1, 2)["threads"] == DEFAULT_THREADS
    monkeypatch.setenv("LEDGER_WEB_THREADS", "6")
    assert threads_from_env() == 6


@pytest.mark.parametrize("value", ["0", "-2", "four", "2.5", "²", "257", "9" * 30])
def test_a_bad_thread_count_in_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LEDGER_WEB_THREADS", value)
    with pytest.raises(click.UsageError, match="LEDGER_WEB_THREADS"):
        threads_from_env()


def test_the_help_of_serve_names_the_default_thread_count() -> None:
    from click.testing import CliRunner

    from web.cli.serve import serve

    shown = CliRunner().invoke(serve, ["--help"]).output
    assert f"else {DEFAULT_THREADS}," in " ".join(shown.split())
