"""The REST API under /api/v1: one module per resource, each exposing `blp`.

Modules are discovered, so adding a resource is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from web.api._blueprint import Blueprint


def blueprints() -> list[Blueprint]:
    """The `blp` of every module of this package, in module-name order."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        blp = getattr(module, "blp", None)
        if isinstance(blp, Blueprint):
            found.append(blp)
    return found
