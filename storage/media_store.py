"""Where kept media live: a local directory (LINLI_MEDIA_DIR) or S3-compatible object storage (LINLI_MEDIA_URL
`s3://bucket/prefix`, LINLI_MEDIA_S3_ENDPOINT for MinIO), behind one small interface: `put`, `get`, `delete`.

Keys are made by linli (`new_key`: random, no resident data) and checked on every call, so a key can never
name a file outside the store. Local files are created 0600 in 0700 folders (they hold residents' photos and
voices). The S3 client is boto3, run in a worker thread (`asyncio.to_thread`) so the event loop never blocks;
credentials come from boto3's usual sources (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, a role).
"""
from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path
from typing import Any, Protocol

from storage.private_files import PRIVATE_FILE, private_folder

KEY = re.compile(r"[0-9]{6}/[0-9a-f]{32}\.[a-z0-9]{1,5}")


class MediaMissing(Exception):
    """The stored object is not there (deleted, or the store was changed)."""


def new_key(month: str, extension: str) -> str:
    """A fresh object name: `YYYYMM/<32 hex>.<ext>` (the month groups files for housekeeping)."""
    ext = re.sub(r"[^a-z0-9]", "", extension.lower())[:5] or "bin"
    return f"{month}/{secrets.token_hex(16)}.{ext}"


def sniffed_type(data: bytes) -> str | None:
    """The type a file's first bytes prove (only the types linli keeps: ticket media, motion attachments), or
    None. Never the file's name or the browser's word."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"#!AMR"):
        return "audio/amr"
    if data.startswith(b"ID3") or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return None


def _checked(key: str) -> str:
    if not KEY.fullmatch(key):
        raise ValueError("invalid media key")
    return key


class MediaStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


class LocalStore:
    """Files under one directory."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)

        def write() -> None:
            private_folder(path.parent)
            partial = path.with_suffix(path.suffix + ".part")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(partial, path)  # a reader never sees half a file

        await asyncio.to_thread(write)  # up to 10 MB: not on the event loop

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise MediaMissing(key) from None

    async def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Store:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, …) under a prefix."""

    def __init__(self, url: str, endpoint: str | None = None, client: Any = None):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.endpoint = endpoint or None
        self._client = client

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{_checked(key)}" if self.prefix else _checked(key)

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client("s3", endpoint_url=self.endpoint, config=Config(
                connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}))
        return self._client

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        name = self._name(key)
        await asyncio.to_thread(lambda: self.client().put_object(Bucket=self.bucket, Key=name, Body=data,
                                                                 ContentType=content_type))

    async def get(self, key: str) -> bytes:
        name = self._name(key)

        def read() -> bytes:
            try:
                return self.client().get_object(Bucket=self.bucket, Key=name)["Body"].read()
            except Exception as exc:
                code = getattr(exc, "response", {}).get("Error", {}).get("Code")
                if code in ("NoSuchKey", "404"):
                    raise MediaMissing(key) from None
                raise

        return await asyncio.to_thread(read)

    async def delete(self, key: str) -> None:
        name = self._name(key)
        await asyncio.to_thread(lambda: self.client().delete_object(Bucket=self.bucket, Key=name))


def store_for(settings) -> MediaStore:
    """The store the settings name: S3 when LINLI_MEDIA_URL is set, else the local directory."""
    if settings.media_url:
        return S3Store(settings.media_url, settings.media_s3_endpoint or None)
    return LocalStore(settings.media_dir)
