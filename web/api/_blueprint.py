"""The API's blueprint: flask-smorest's, with documented headers added to an
operation's parameters rather than replacing them, and query parameters an endpoint
does not declare refused (400 `unknown_parameter`, naming them) rather than ignored:
a misspelt filter must not silently widen a list. A write that takes no body refuses
one (422, `_body`) unless it is empty or `{}`: `{"dry_run": true}` sent to an
erasure request must not be read as a confirmation."""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma
from flask import Response, current_app, request

from web.api._http import REASON_PARAM
from web.problems import problem, validation_problem

WRITES = frozenset({"post", "put", "patch", "delete"})
MAX_NAMED = 10  # unknown names quoted back, each cut to 40 characters


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """`@blp.doc(parameters=[...])` adds to what `@blp.arguments` documents.

    flask-smorest merges the manual doc over the generated one key by key, and a list
    replaces a list: an endpoint naming a header (X-Purpose, If-Match) lost its query
    parameters from the OpenAPI document.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(_add_manual_parameters)
        self._prepare_doc_cbks.append(_add_reason_parameter)
        self.before_request(refuse_unknown_parameters)
        self.before_request(refuse_unexpected_body)

    def arguments(self, schema: Any, **kwargs: Any) -> Any:
        """flask-smorest's, with a schema class made an instance once, here: webargs
        builds a new instance of a class (and of its nested schemas) for every request."""
        if isinstance(schema, type) and issubclass(schema, ma.Schema):
            schema = schema()
        return super().arguments(schema, **kwargs)


def declared_query_parameters(view: Any) -> frozenset[str]:
    """The query parameter names an endpoint declares (`@blp.arguments(..., location=
    "query")`), as sent (data keys)."""
    names: set[str] = set()
    documented = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    for parameter in documented:
        if parameter.get("in") != "query":
            continue
        schema = parameter["schema"]
        schema = schema() if isinstance(schema, type) else schema
        assert isinstance(schema, ma.Schema)
        names.update(field.data_key or name for name, field in schema.load_fields.items())
    return frozenset(names)


BODY_LOCATIONS = frozenset({"json", "form", "files"})


def takes_body(view: Any) -> bool:
    """True when the endpoint declares a request body (`@blp.arguments` at a body
    location)."""
    apidoc = getattr(view, "_apidoc", {}).get("arguments", {})
    if apidoc.get("requestBody"):
        return True
    return any(p.get("in") in BODY_LOCATIONS for p in apidoc.get("parameters", []))


def refuse_unexpected_body() -> Response | None:
    """422 for a write whose endpoint takes no body but was sent one other than an
    empty body or `{}` (runs after the role check)."""
    if request.method.lower() not in WRITES or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if view is None or takes_body(view):
        return None
    raw = request.get_data(cache=True)
    if not raw.strip() or raw.strip() == b"{}" or (request.get_json(silent=True) == {}):
        return None
    return validation_problem({"_body": ["this operation takes no request body"]})


def refuse_unknown_parameters() -> Response | None:
    """400 `unknown_parameter` for a query parameter the endpoint does not declare (runs
    after the role check, so a caller without the role learns nothing of them)."""
    if not request.args or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    unknown = sorted(set(request.args) - declared_query_parameters(view))
    if not unknown:
        return None
    named = [name[:40] for name in unknown[:MAX_NAMED]]
    return problem(
        400,
        "unknown_parameter",
        f"unknown query parameter(s): {', '.join(named)}",
        errors={name: ["unknown query parameter"] for name in named},
    )


def _add_manual_parameters(
    doc: dict[str, Any], doc_info: dict[str, Any], **_context: Any
) -> dict[str, Any]:
    manual = doc_info.get("manual_doc", {})
    extra = manual.pop("parameters", None)
    if extra:
        doc["parameters"] = [*doc.get("parameters", []), *extra]
    return doc


def _add_reason_parameter(
    doc: dict[str, Any], _doc_info: dict[str, Any], *, method: str, **_context: Any
) -> dict[str, Any]:
    """Every write documents `X-Reason` (web.api._http.actor records it on its events)."""
    parameters = doc.get("parameters", [])
    named = {(p.get("in"), p.get("name")) for p in parameters if isinstance(p, dict)}
    if method in WRITES and ("header", REASON_PARAM["name"]) not in named:
        doc["parameters"] = [*parameters, REASON_PARAM]
    return doc
