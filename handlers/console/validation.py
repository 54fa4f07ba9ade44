"""Every API request is checked against its route's schema in the OpenAPI document before the handler runs.

The document (`/api/v1/openapi.json`, merged from each feature's `openapi.yaml`) is the one schema per route:
at start every API route must have its operation there (and every documented operation a route), and each
operation's path and query parameters and JSON body are compiled into validators. A request that does not fit
gets a Chinese message naming the field and what is expected. A request that cannot be read as its schema's
types is malformed (400): `²` or 2^63 as an id, a body that is not UTF-8 JSON, a lone surrogate `"\\ud800"`.
A JSON body that parses but breaks its schema (`"scope": "x"` where an object is expected, `"content": 1` for a
string, a missing required field, a date in year 1) is 422, the status the services give a field that breaks a
rule, so a client sees one status for "this field's value is wrong" whichever layer noticed.
Handlers then read values that already have their documented types.

OpenAPI 3.0 schemas are JSON Schema with a few differences, converted here: `$ref`s are inlined, `nullable`
becomes a null type, integers without bounds get the SQL BIGINT range, and `date`/`date-time` formats are
checked (within years 1900–9999, with a time zone for date-time).
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Callable

from aiohttp import web
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from bot.errors import BadRequest, DomainError, Invalid
from handlers.console.guard import require_staff

INT64 = (-(2**63), 2**63 - 1)
MAX_DEPTH = 32
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
_NUMBER = re.compile(r"[+-]?([0-9]{1,15}(\.[0-9]{1,12})?|\.[0-9]{1,12})")
TYPE_NAMES = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "true 或 false", "array": "列表",
              "object": "对象（键值对）", "null": "null"}
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return 1900 <= date.fromisoformat(value).year <= 9999


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    moment = datetime.fromisoformat(value)
    return 1900 <= moment.year <= 9999


class SpecError(RuntimeError):
    """The routes and the OpenAPI document disagree (raised at start)."""


@dataclass
class Parameter:
    name: str
    where: str  # path | query
    required: bool
    schema: dict
    validator: Draft7Validator = field(repr=False, default=None)  # type: ignore[assignment]


@dataclass
class Operation:
    """The compiled checks of one documented operation."""

    method: str
    path: str
    parameters: list[Parameter]
    body: Draft7Validator | None  # JSON body schema, when the operation takes JSON
    body_required: bool = False

    async def check(self, request: web.Request) -> None:
        for p in self.parameters:
            source = request.match_info if p.where == "path" else request.query
            if p.name not in source:
                if p.required:
                    raise BadRequest(f"缺少参数 {p.name}")
                continue
            raw = source[p.name] if p.where == "path" else request.query.getone(p.name)
            value = _coerce(p.name, raw, p.schema)
            _raise_first(p.validator, value, f"参数 {p.name}", BadRequest)
        if self.body is not None and (request.body_exists or self.body_required):
            _raise_first(self.body, await _json_body(request), "请求体", Invalid)


def _coerce(name: str, raw: str, schema: dict) -> Any:
    """A path or query string as the type its schema names (400 when it is not one)."""
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "integer" in kinds:
        if not _INTEGER.fullmatch(raw):
            raise BadRequest(f"参数 {name}：应为整数")
        return int(raw)
    if "number" in kinds:
        if not _NUMBER.fullmatch(raw):
            raise BadRequest(f"参数 {name}：应为数字")
        return float(raw)
    if "boolean" in kinds:
        if raw.lower() not in ("true", "false", "1", "0"):
            raise BadRequest(f"参数 {name}：应为 true 或 false")
        return raw.lower() in ("true", "1")
    _check_text(raw, f"参数 {name}")
    return raw


async def _json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        raise BadRequest("请求体应为 JSON")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("请求体应为 UTF-8 编码的 JSON") from None
    _check_strings(value, 0)
    return value


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{where}：含有无效的字符（孤立的代理项）") from None
    if "\x00" in text:
        raise BadRequest(f"{where}：含有空字符")


def _check_strings(value: Any, depth: int) -> None:
    """No lone surrogates or NULs anywhere (they cannot be stored), and no absurd nesting."""
    if depth > MAX_DEPTH:
        raise BadRequest("请求体嵌套过深")
    if isinstance(value, str):
        _check_text(value, "请求体")
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, "请求体")
            _check_strings(item, depth + 1)


def _raise_first(validator: Draft7Validator, value: Any, where: str, error_type: type[DomainError]) -> None:
    """Raise for the first problem; a body's problems are also listed by field under `errors`, the
    shape the services use for a field that breaks a rule."""
    found = sorted(validator.iter_errors(value), key=lambda e: (len(e.path), str(e.path)))
    if not found:
        return
    if error_type is BadRequest:
        raise BadRequest(_message(found[0], where))
    by_field: dict[str, str] = {}
    for error in found:
        for name in _fields(error):
            by_field.setdefault(name, _message(error, where))
    raise error_type(_message(found[0], where), errors=by_field)


def _fields(error: ValidationError) -> list[str]:
    """The body fields an error is about, dotted (`entry.questions`); a missing required field names itself."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        return [".".join(filter(None, (path, name))) for name in error.validator_value if name not in error.instance]
    return [path or "body"]


def _message(error: ValidationError, where: str) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    place = f"{where} {path}" if path else where
    v, expected = error.validator, error.validator_value
    if v == "type":
        names = expected if isinstance(expected, list) else [expected]
        text = "应为" + " 或 ".join(TYPE_NAMES.get(n, n) for n in names)
    elif v == "required":
        missing = [name for name in expected if isinstance(error.instance, dict) and name not in error.instance]
        text = f"缺少字段 {'、'.join(missing)}"
    elif v == "enum":
        text = "应为 " + " / ".join(str(x) for x in expected) + " 之一"
    elif v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        text = f"超出允许的范围（{'不小于' if 'inimum' in v else '不大于'} {expected}）"
    elif v in ("minLength", "maxLength"):
        text = f"长度应{'至少' if v == 'minLength' else '不超过'} {expected} 个字符"
    elif v in ("minItems", "maxItems"):
        text = f"应{'至少' if v == 'minItems' else '至多'}有 {expected} 项"
    elif v == "format":
        text = {"date": "应为日期，例如 2026-11-21", "date-time": "应为时间，例如 2026-11-21T08:00:00+08:00"}.get(
            expected, f"格式应为 {expected}")
    elif v == "pattern":
        text = "格式不正确"
    elif v == "additionalProperties":
        text = "含有不认识的字段"
    else:
        text = "不符合要求"
    return f"{place}：{text}"


# ---- compiling the document ------------------------------------------------------------------------------------


def _resolve(node: Any, spec: dict, seen: tuple[str, ...] = ()) -> Any:
    """`node` with every `$ref` inlined and OpenAPI 3.0 specifics turned into JSON Schema."""
    if isinstance(node, list):
        return [_resolve(item, spec, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            raise SpecError(f"OpenAPI: recursive reference {ref}")
        target: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(target, spec, seen + (ref,))
    out = {k: _resolve(v, spec, seen) for k, v in node.items()
           if k not in ("nullable", "example", "examples", "description", "summary", "readOnly", "writeOnly")}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
    kinds = out.get("type")
    if kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds):
        out.setdefault("minimum", INT64[0])
        out.setdefault("maximum", INT64[1])
    return out


def compile_operations(spec: dict) -> dict[tuple[str, str], Operation]:
    """(METHOD, path) → Operation for every operation of the document."""
    found: dict[tuple[str, str], Operation] = {}
    for path, item in (spec.get("paths") or {}).items():
        shared = item.get("parameters") or []
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            params = []
            for raw in [*shared, *(op.get("parameters") or [])]:
                p = _resolve(raw, spec)
                if p.get("in") not in ("path", "query"):
                    continue
                schema = p.get("schema") or {}
                params.append(Parameter(p["name"], p["in"], bool(p.get("required") or p["in"] == "path"), schema,
                                        Draft7Validator(schema, format_checker=FORMATS)))
            body = (op.get("requestBody") or {})
            json_schema = ((body.get("content") or {}).get("application/json") or {}).get("schema")
            validator = Draft7Validator(_resolve(json_schema, spec), format_checker=FORMATS) \
                if json_schema is not None else None
            found[(method.upper(), path)] = Operation(method.upper(), path, params, validator,
                                                      bool(body.get("required")) and validator is not None)
    return found


def checked(handler: Callable, operation: Operation) -> Callable:
    """`handler` with the operation's checks run after its authorization (`@require_staff`) and before its own
    code: a caller who may not use the route is refused (401/403) before anything about the request is judged."""
    inner = getattr(handler, "__wrapped__", None)
    guard = getattr(handler, "console_guard", None)

    def validating(target: Callable) -> Callable:
        @functools.wraps(target)
        async def run(request: web.Request) -> web.StreamResponse:
            await operation.check(request)
            return await target(request)

        return run

    if inner is None or guard in (None, "public"):  # nothing to authorize first
        return validating(handler)
    rebuilt = require_staff(None if guard == "staff" else guard)(validating(inner))
    for marker in ("console_max_body", "partner_allowed", "committee_allowed"):  # kept: `require_staff` reads them
        if hasattr(handler, marker):
            setattr(rebuilt, marker, getattr(handler, marker))
    return rebuilt


def bind(routes: list, spec: dict) -> list:
    """The API routes, each with its operation's checks in front; SpecError when a route is not documented or a
    documented operation has no route, so the document and the routes cannot drift apart."""
    operations = compile_operations(spec)
    mounted = {(r.method, r.path) for r in routes}
    undocumented = sorted(f"{m} {p}" for m, p in mounted - set(operations))
    unrouted = sorted(f"{m} {p}" for m, p in set(operations) - mounted)
    if undocumented or unrouted:
        raise SpecError("API routes and /api/v1/openapi.json disagree:"
                        + (f"\n  not documented: {', '.join(undocumented)}" if undocumented else "")
                        + (f"\n  documented without a route: {', '.join(unrouted)}" if unrouted else ""))
    return [replace(route, handler=checked(route.handler, operations[(route.method, route.path)]))
            for route in routes]
