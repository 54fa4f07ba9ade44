"""The client's address behind reverse proxies, believing `X-Forwarded-For` only from configured proxies.

A request's peer address (`request.remote`) is the truth about who connected. When that peer is one of our
proxies (LINLI_TRUSTED_PROXIES), the address it appended to `X-Forwarded-For` is the one it saw; walking the
header from the right, every address that is itself a trusted proxy is skipped and the first one that is not is
the client. Anything further left was written by the client and is never believed. A peer that is not a trusted
proxy is the client, whatever headers it sends (so a rotating `X-Forwarded-For` changes nothing).
"""
from __future__ import annotations

import ipaddress
from typing import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_LENGTH = 64


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address, networks: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(remote: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The client's address: `remote`, or, when `remote` is a trusted proxy, the right-most address of the
    `X-Forwarded-For` header values (in the order received) that is not a trusted proxy."""
    peer = _address(remote or "")
    if peer is None:
        return (remote or "-")[:MAX_LENGTH]
    if not trusted or not _trusted(peer, trusted):
        return str(peer)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # garbage: only a client writes that; the proxy that passed it on is what we know
            break
        client = address
        if not _trusted(address, trusted):
            break
    return str(client)


def throttle_key(address: str) -> str:
    """The part of an address one client controls: the address itself for IPv4, its /64 for IPv6 (anyone
    with one IPv6 address has the whole /64)."""
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed) if parsed is not None else address[:MAX_LENGTH]
