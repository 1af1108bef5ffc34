"""The API's blueprint: flask-smorest's, with documented headers added to an
operation's parameters rather than replacing them."""

from __future__ import annotations

from typing import Any

import flask_smorest


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """`@blp.doc(parameters=[...])` adds to what `@blp.arguments` documents.

    flask-smorest merges the manual doc over the generated one key by key, and a list
    replaces a list: an endpoint naming a header (X-Purpose, If-Match) lost its query
    parameters from the OpenAPI document.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(_add_manual_parameters)


def _add_manual_parameters(
    doc: dict[str, Any], doc_info: dict[str, Any], **_context: Any
) -> dict[str, Any]:
    manual = doc_info.get("manual_doc", {})
    extra = manual.pop("parameters", None)
    if extra:
        doc["parameters"] = [*doc.get("parameters", []), *extra]
    return doc
