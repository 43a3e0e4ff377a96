"""docs/api.md, the HTTP reference, written from the served OpenAPI document.

`python -m ledger.http.reference > docs/api.md` rewrites it; a test fails when the
file is not what this prints, so the reference cannot drift from the API.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ledger.http.openapi import document
from ledger.http.problems import SLUG_STATUS, TITLES

_HEAD = """# HTTP API reference

Written from the OpenAPI 3.1 document the service serves at
`GET /v1/openapi.json` (`python -m ledger.http.reference > docs/api.md`
rewrites this file; a test checks it is current). Requests carry
`Authorization: Bearer <key>` except where a route says "no key"; bodies are
JSON, at most 1 MiB and 1000 events, sent uncompressed or with
`Content-Encoding: gzip` or `deflate` (another coding is a 415, a body not in
its coding a 400), and whole within 30 s of the headers (a 400 after, and the
connection closed); a connection with no request under way is closed after
75 s. Money is integer fen, rates and shares
integer basis points. Refusals are `application/problem+json` (RFC 9457) with
`type` (`/problems/<slug>`), `title`, `status` and `detail`, and for 422 an
`errors` list of `{path, message}` naming each field to fix. Every answer carries
`X-Request-ID`: the one the request sent (1 to 128 of `A-Za-z0-9._:/+=-`, the first a
letter or digit), else a new UUID; each log line about the request carries it as
`request_id`.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema or "oneOf" in schema:
        return " or ".join(_type(s) for s in schema.get("anyOf", schema.get("oneOf", [])))
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " or ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        if isinstance(extra, dict):
            return f"object of {_type(extra)}"
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def _operation(method: str, path: str, op: dict[str, Any]) -> list[str]:
    lines = [f"### {method.upper()} {path}", "", op["summary"] + ".", ""]
    if "security" not in op:
        lines += ["No key needed.", ""]
    params = op.get("parameters", [])
    if params:
        lines += ["| parameter | in | type | meaning |", "| --- | --- | --- | --- |"]
        for p in params:
            # A path parameter always is; a query parameter says so when it is.
            where = p["in"] + (", required" if p["in"] == "query" and p["required"] else "")
            lines.append(
                f"| `{p['name']}` | {where} | {_cell(_type(p['schema']))} "
                f"| {_cell(p.get('description', ''))} |"
            )
        lines.append("")
    if "requestBody" in op:
        media, spec = next(iter(op["requestBody"]["content"].items()))
        body = _type(spec["schema"])
        if media != "application/json":
            body += f" as `{media}`"  # a witness's cosigned note is text
        lines += [f"Body: {body}. {op['requestBody'].get('description', '')}", ""]
    lines += ["| status | answer |", "| --- | --- |"]
    for status, answer in op["responses"].items():
        content = answer.get("content", {})
        if status.startswith("2"):
            lines.append(f"| {status} | {_cell(_answer(content, answer))} |")
        else:
            lines.append(f"| {status} | {_cell(answer['description'])} |")
    return [*lines, ""]


def _answer(content: dict[str, Any], answer: dict[str, Any]) -> str:
    if not content:
        return str(answer.get("description", ""))
    kinds = [
        (media, _type(spec.get("schema", {})) if media != "text/plain" else "text")
        for media, spec in content.items()
    ]
    if len(kinds) == 1:
        return kinds[0][1]
    return "; ".join(f"{what} as `{media}`" for media, what in kinds)


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [schema["description"].strip(), ""]
    props = schema.get("properties")
    if not props:
        if "oneOf" in schema or "anyOf" in schema:
            lines += [f"One of: {_type(schema)}.", ""]
        return lines
    required = set(schema.get("required", []))
    lines += ["| field | type | |", "| --- | --- | --- |"]
    for field, spec in props.items():
        note = "required" if field in required else "optional"
        if spec.get("description"):
            note += ": " + spec["description"].strip()
        lines.append(f"| `{field}` | {_cell(_type(spec))} | {_cell(note)} |")
    return [*lines, ""]


def _answered(doc: dict[str, Any]) -> list[str]:
    """Component names of every success answer, and of the components they refer to."""
    names: list[str] = []

    def visit(schema: Any) -> None:
        if isinstance(schema, dict):
            ref = schema.get("$ref")
            if ref is not None:
                name = ref.rsplit("/", 1)[-1]
                if name not in names:
                    names.append(name)
                    visit(doc["components"]["schemas"][name])
            for value in schema.values():
                visit(value)
        elif isinstance(schema, list):
            for value in schema:
                visit(value)

    for methods in doc["paths"].values():
        for op in methods.values():
            for status, answer in op["responses"].items():
                if status.startswith("2"):
                    visit(answer.get("content", {}))
    return names


def render(doc: dict[str, Any]) -> str:
    """The reference in Markdown: routes, answers and their fields, problems."""
    lines = [_HEAD, "## Routes", ""]
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            lines += _operation(method, path, op)
    lines += ["## Answers", "", "The fields of each success answer.", ""]
    for name in _answered(doc):
        lines += _schema(name, doc["components"]["schemas"][name])
    lines += ["## Problems", "", "| status | type | title |", "| --- | --- | --- |"]
    for slug, status in sorted(SLUG_STATUS.items(), key=lambda s: (s[1], s[0])):
        lines.append(f"| {status} | `/problems/{slug}` | {_cell(TITLES[slug])} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Print the reference of the document this service serves."""
    sys.stdout.write(render(json.loads(document())))


if __name__ == "__main__":
    main()
