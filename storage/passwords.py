"""Staff password hashing with scrypt from the standard library.

A stored hash is self-describing: `scrypt$<n>$<r>$<p>$<salt>$<key>` (salt and key base64, no padding), so the
cost can be raised later without invalidating old hashes; `needs_rehash` tells when a login should re-hash.
Verification recomputes the key with the stored parameters and compares in constant time.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N = 2**14  # ~50 ms and 16 MiB per hash on a small server
R = 8
P = 1
SALT_BYTES = 16
KEY_BYTES = 32
# Bounds on parameters read back from a stored hash, so a tampered row cannot make a login eat the server.
MAX_N = 2**20
MAX_R = 32
MAX_P = 16
MAX_MEM = 1024 * 1024 * 1024


def hash_password(password: str) -> str:
    """Hash `password` with a fresh random salt and the current cost parameters."""
    if not isinstance(password, str) or not password:
        raise ValueError("密码不能为空")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, N, R, P, KEY_BYTES)
    return "$".join([SCHEME, str(N), str(R), str(P), _b64encode(salt), _b64encode(key)])


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches `stored`; False for a wrong password or a malformed or missing hash."""
    if not isinstance(password, str) or not password:
        return False
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    candidate = _derive(password, salt, n, r, p, len(key))
    return hmac.compare_digest(candidate, key)


def needs_rehash(stored: str | None) -> bool:
    """True when `stored` is malformed or was made with weaker parameters than the current ones."""
    parsed = _parse(stored)
    if parsed is None:
        return True
    n, r, p, salt, key = parsed
    return (n, r, p) < (N, R, P) or len(salt) < SALT_BYTES or len(key) < KEY_BYTES


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    maxmem = min(MAX_MEM, 256 * n * r * p + 1024 * 1024)
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=length)


def _parse(stored: str | None) -> tuple[int, int, int, bytes, bytes] | None:
    if not isinstance(stored, str):
        return None
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = _b64decode(parts[4]), _b64decode(parts[5])
    except (ValueError, binascii.Error):
        return None
    if not _sane(n, r, p) or not salt or len(key) < 16:
        return None
    return n, r, p, salt, key


def _sane(n: int, r: int, p: int) -> bool:
    power_of_two = n > 1 and n & (n - 1) == 0
    return power_of_two and n <= MAX_N and 1 <= r <= MAX_R and 1 <= p <= MAX_P


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
