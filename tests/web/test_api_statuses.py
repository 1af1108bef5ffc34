"""HTTP statuses live in one table of web/, not in the domain: every error class of
ours has its own entry there, and no class outside web/ carries a `status`."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator

import pytest

from domain.errors import DomainError, NotFound, ValidationFailed
from web.statuses import STATUSES, status_of

pytestmark = pytest.mark.unit

PACKAGES = ("domain", "security", "projections", "scheduler", "demo", "web")


def our_modules() -> Iterator[object]:
    for name in PACKAGES:
        package = importlib.import_module(name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, name + "."):
            if info.name.endswith(".__main__"):  # runs a program when imported
                continue
            yield importlib.import_module(info.name)


def our_classes() -> list[type]:
    found = {}
    for module in our_modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__.split(".")[0] in PACKAGES:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


def test_every_domain_error_has_an_explicit_status() -> None:
    errors = [cls for cls in our_classes() if issubclass(cls, DomainError)]
    assert len(errors) > 30
    missing = [f"{cls.__module__}.{cls.__name__}" for cls in errors if cls not in STATUSES]
    assert missing == []


def test_no_class_outside_web_defines_an_http_status() -> None:
    offenders = [
        f"{cls.__module__}.{cls.__name__}"
        for cls in our_classes()
        if not cls.__module__.startswith("web.")
        and issubclass(cls, BaseException)
        and "status" in vars(cls)
    ]
    assert offenders == []


def test_the_most_specific_class_in_the_table_wins() -> None:
    class Unlisted(NotFound):
        pass

    assert status_of(Unlisted("gone")) == 404
    assert status_of(ValidationFailed({"name": "must not be blank"})) == 422


def test_every_status_in_the_table_is_an_error_status() -> None:
    assert all(400 <= status <= 599 for status in STATUSES.values())
