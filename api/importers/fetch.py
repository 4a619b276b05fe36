"""Fetch a remote page for an importer: only http(s), bounded in time and size, and never
to loopback, private, link-local or other non-public addresses (SSRF).

The address check runs where the connection is made (a guarded network backend under
httpx), on every address the name resolves to and for every redirect hop, so a name that
resolves differently the second time (DNS rebinding) cannot slip through. URLs whose host
is already an address are refused before any request is made.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from api.errors import KnitterError

DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "knitter/0.1 (+https://github.com/knitter)"
ALLOWED_SCHEMES = ("http", "https")


class FetchError(KnitterError):
    """A URL that was refused or could not be fetched; the message says why."""


@dataclass(frozen=True)
class FetchPolicy:
    timeout: float = DEFAULT_TIMEOUT  # seconds for the whole fetch, redirects included
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = MAX_REDIRECTS
    # Local CLI use may want pages on the own network; a server never should.
    allow_private: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)


DEFAULT_POLICY = FetchPolicy()


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def content_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        charset = str(httpx.Response(200, headers=self.headers).charset_encoding or "utf-8")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


# IPv6 prefixes whose last 32 bits are an IPv4 address a gateway or the host may reach:
# NAT64 (RFC 6052), IPv4-translated (RFC 2765) and IPv4-compatible (deprecated, ::/96).
EMBEDDING_PREFIXES = tuple(
    ipaddress.IPv6Network(net) for net in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96")
)
# The local-use NAT64 prefix (RFC 8215) embeds IPv4 at an operator's chosen offset.
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64, …)."""
    found = [v4 for v4 in (ip.ipv4_mapped, ip.sixtofour) if v4 is not None]
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in net for net in EMBEDDING_PREFIXES) and int(ip) > 1:  # not :: nor ::1
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def is_public_address(address: str) -> bool:
    """Only global unicast; an IPv6 form that embeds IPv4 is judged by that IPv4 too."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in LOCAL_NAT64:
            return False
        embedded = embedded_ipv4(ip)
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is not global itself
            return embedded[0].is_global and not embedded[0].is_multicast
        if not all(v4.is_global and not v4.is_multicast for v4 in embedded):
            return False
    return ip.is_global and not ip.is_multicast


def check_url(url: str | httpx.URL, policy: FetchPolicy = DEFAULT_POLICY) -> httpx.URL:
    """The URL, if knitter may fetch it; FetchError otherwise. Names are checked again,
    after resolution, when the connection is made."""
    try:
        parsed = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(f"not a valid URL: {exc}") from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise FetchError(f"only http and https URLs can be imported, not {parsed.scheme!r}")
    host = parsed.host
    if not host:
        raise FetchError("the URL has no host")
    if not policy.allow_private:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise FetchError(f"refusing to fetch from a local address ({host})")
        try:
            public = is_public_address(host)
        except ValueError:
            public = True  # a name: checked once resolved
        if not public:
            raise FetchError(f"refusing to fetch from a private or local address ({host})")
    return parsed


class GuardedBackend(httpcore.SyncBackend):
    """Resolves the name itself and connects only to an address that passed the check."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not self.allow_private:
            refused = [a for a in addresses if not is_public_address(a)]
            if refused:
                raise httpcore.ConnectError(
                    f"refusing to connect to {host}: it resolves to a private or local"
                    f" address ({refused[0]})"
                )
        last: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, allow_private: bool) -> None:
        super().__init__(trust_env=False)
        # httpx has no public hook for the network backend; the pool it builds for a
        # direct connection is replaced by the same pool over the guarded backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=GuardedBackend(allow_private),
            max_connections=10,
        )


def fetch(
    url: str,
    policy: FetchPolicy = DEFAULT_POLICY,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
) -> Fetched:
    """The response body, at most policy.max_bytes of it, within policy.timeout seconds.
    Any status is returned (callers decide); every failure is a FetchError."""
    check_url(url, policy)
    deadline = time.monotonic() + policy.timeout

    def check_hop(request: httpx.Request) -> None:
        check_url(request.url, policy)
        if time.monotonic() > deadline:
            raise FetchError(f"gave up after {policy.timeout:g} s")

    all_headers = {"user-agent": USER_AGENT, **policy.headers, **(headers or {})}
    try:
        with (
            httpx.Client(
                transport=GuardedTransport(policy.allow_private),
                timeout=httpx.Timeout(policy.timeout),
                follow_redirects=True,
                max_redirects=policy.max_redirects,
                trust_env=False,
                event_hooks={"request": [check_hop]},
            ) as client,
            client.stream(method, url, headers=all_headers, content=content) as response,
        ):
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > policy.max_bytes:
                raise FetchError(f"the response is larger than {_size(policy.max_bytes)}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > policy.max_bytes:
                    raise FetchError(f"the response is larger than {_size(policy.max_bytes)}")
                if time.monotonic() > deadline:
                    raise FetchError(f"gave up after {policy.timeout:g} s")
            return Fetched(str(response.url), response.status_code, response.headers, bytes(body))
    except httpx.TooManyRedirects as exc:
        raise FetchError(f"more than {policy.max_redirects} redirects") from exc
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out after {policy.timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"could not fetch {url}: {exc}") from exc


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n} bytes"
