"""The app asks once per function whether it is a coroutine function (Flask asks for
every hook and view of every request: about 5% of a masked customer read's CPU); plain
functions are returned as they are, async ones still go through `async_to_sync`."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from web.app import LedgerFlask

pytestmark = pytest.mark.unit


def test_each_function_is_inspected_once(monkeypatch: pytest.MonkeyPatch) -> None:
    app = LedgerFlask(__name__)
    asked: list[Any] = []
    real = inspect.iscoroutinefunction

    def counting(func: Any) -> bool:
        asked.append(func)
        return real(func)

    monkeypatch.setattr("web.app.iscoroutinefunction", counting)

    def hook() -> None:
        return None

    for _ in range(5):
        assert app.ensure_sync(hook) is hook
    assert asked == [hook]


def test_an_async_function_is_still_made_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    app = LedgerFlask(__name__)
    wrapped: list[Any] = []

    def sync() -> None:
        return None

    def async_to_sync(func: Any) -> Any:
        wrapped.append(func)
        return sync

    monkeypatch.setattr(app, "async_to_sync", async_to_sync)

    async def view() -> None:
        return None

    assert app.ensure_sync(view) is sync
    assert app.ensure_sync(view) is sync
    assert wrapped == [view, view]
