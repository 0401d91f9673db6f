"""Requests built from the app's own OpenAPI document: a plain valid-looking request
per operation, and the places (query parameters, body text fields at any depth) where
a string goes, so attacks reach every text input of every endpoint."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Location = tuple[str, tuple[str | int, ...]]  # ("query"|"body", path in the value)


@dataclass
class Operation:
    method: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    text_inputs: list[Location] = field(default_factory=list)

    def with_text(self, where: Location, value: str) -> tuple[dict, Any]:
        """(query, body) with ``value`` put at ``where``."""
        query, body = dict(self.query), copy.deepcopy(self.body)
        kind, path = where
        if kind == "query":
            query[str(path[0])] = value
            return query, body
        target = body
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return query, body


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _is_text(spec: dict, schema: dict) -> bool:
    schema = _resolve(spec, schema)
    if schema.get("type") == "string":
        return True
    return any(_is_text(spec, s) for s in schema.get("anyOf", []))


def _example(
    spec: dict, schema: dict, at: tuple, found: list, defaults: dict[str, Any]
) -> Any:
    schema = _resolve(spec, schema)
    options = [
        _resolve(spec, s) for s in schema.get("anyOf", []) if s.get("type") != "null"
    ]
    if options:
        schema = options[0]
    kind = schema.get("type")
    if kind == "object":
        value = {}
        for name, sub in schema.get("properties", {}).items():
            value[name] = _example(spec, sub, (*at, name), found, defaults)
        return value
    if kind == "array":
        return [_example(spec, schema["items"], (*at, 0), found, defaults)]
    if kind == "string":
        found.append(("body", at))
        return defaults.get(str(at[-1]), "x")
    if kind == "integer":
        return defaults.get(str(at[-1]), 1)
    if kind == "boolean":
        return False
    if kind == "number":
        return 1.0
    return None


def operations(spec: dict, defaults: dict[str, Any]) -> Iterator[Operation]:
    """One Operation per path and method; ``defaults`` gives values by field name."""
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            operation = Operation(method.upper(), path)
            for param in op.get("parameters", []):
                if param["in"] != "query":
                    continue
                name = param["name"]
                if name in defaults:
                    operation.query[name] = defaults[name]
                if _is_text(spec, param.get("schema", {})):
                    operation.text_inputs.append(("query", (name,)))
            content = op.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is not None:
                found: list[Location] = []
                operation.body = _example(spec, schema, (), found, defaults)
                operation.text_inputs += found
            yield operation
