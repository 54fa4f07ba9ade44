"""Structured logging: one JSON object per line, with the request id of the request being served.

Query strings are never logged (they carry signatures and openids) and known secret fields are masked.
"""
from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import time

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SECRET = re.compile(r"(access_token|secret|signature|msg_signature|password)=([^&\s\"]+)", re.I)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# The fields a log line may carry besides ts/level/logger/request_id/msg/exc: operators can rely on this set, and
# nothing that identifies a resident (openids, message text) can slip in through `extra=`.
FIELDS = frozenset({"worker", "pid", "exit", "status", "seconds", "remote", "job", "broadcast", "attempt",
                    "errcode", "path", "msg_key", "count"})


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: f"{m.group(1)}=***", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created)) + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "request_id": request_id.get(),
            "msg": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key in FIELDS:
                entry[key] = value if isinstance(value, (int, float, bool)) or value is None else redact(str(value))
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(level)
    for noisy in ("jieba", "sqlalchemy.engine", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_from(header: str | None) -> str:
    """The caller's `X-Request-Id` when it is a short safe token (nginx's `$request_id`: 32 hex digits), else a
    fresh id: the header is echoed and written into every log line, so nothing else may pass."""
    if header and _REQUEST_ID.fullmatch(header):
        return header
    return os.urandom(6).hex()


@web.middleware
async def request_id_middleware(request: web.Request, handler):
    rid = request_id_from(request.headers.get("X-Request-Id"))
    token = request_id.set(rid)
    try:
        response = await handler(request)
        response.headers["X-Request-Id"] = rid
        return response
    finally:
        request_id.reset(token)


class QuietAccessLogger(AbstractAccessLogger):
    """Access log without the query string (signatures, openids): method, path, status, size, seconds."""

    def log(self, request, response, time_taken):
        self.logger.info(
            "%s %s %s", request.method, request.path, response.status,
            extra={"status": response.status, "seconds": round(time_taken, 4), "remote": request.remote},
        )
