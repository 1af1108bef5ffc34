"""The REST API under /api/v1: one blueprint module per resource."""

from __future__ import annotations

from flask_smorest import Blueprint

from web.api.integrity import blp as integrity

BLUEPRINTS: list[Blueprint] = [integrity]
