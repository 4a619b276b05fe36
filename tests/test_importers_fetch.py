"""The fetcher every URL importer uses: http(s) only, bounded, and no way to private
addresses, whether named directly, through a redirect or through name resolution."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import httpcore
import httpx
import pytest
import respx

from api.importers.fetch import FetchError, FetchPolicy, GuardedBackend, check_url, fetch


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.org/file.txt", "only http and https"),
        ("http://127.0.0.1:8080/", "private or local"),
        ("http://10.1.2.3/", "private or local"),
        ("http://192.168.0.1/admin", "private or local"),
        ("http://169.254.169.254/latest/meta-data/", "private or local"),
        ("http://[::1]/", "private or local"),
        ("http://[::ffff:10.0.0.1]/", "private or local"),
        ("http://[fe80::1]/", "private or local"),
        # IPv6 forms that embed an IPv4 address are judged by it: NAT64, 6to4, Teredo,
        # IPv4-compatible and IPv4-translated forms of loopback and the metadata service.
        ("http://[64:ff9b::7f00:1]/", "private or local"),
        ("http://[64:ff9b::a9fe:a9fe]/", "private or local"),
        ("http://[64:ff9b:1::a9fe:a9fe]/", "private or local"),
        ("http://[2002:7f00:1::]/", "private or local"),
        ("http://[2002:a9fe:a9fe::1]/", "private or local"),
        ("http://[::127.0.0.1]/", "private or local"),
        ("http://[::169.254.169.254]/", "private or local"),
        ("http://[::ffff:0:127.0.0.1]/", "private or local"),
        ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "private or local"),
        ("http://0.0.0.0/", "private or local"),
        ("http://localhost:8000/", "local address"),
        ("http://printer.local/", "local address"),
        ("https:///no-host", "no host"),
    ],
)
def test_refused_urls(url: str, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        check_url(url)


def test_public_urls_pass_the_check() -> None:
    assert check_url("https://chatgpt.com/share/abc").host == "chatgpt.com"
    assert check_url("http://93.184.215.14/").host == "93.184.215.14"
    # The same forms around a public IPv4 address stay public.
    assert check_url("http://[64:ff9b::808:808]/").host == "64:ff9b::808:808"
    assert check_url("http://[2002:808:808::1]/").host == "2002:808:808::1"
    assert check_url("http://[2606:4700::1111]/").host == "2606:4700::1111"


@respx.mock
def test_a_redirect_to_a_private_address_is_refused() -> None:
    respx.get("https://example.org/go").mock(
        return_value=httpx.Response(302, headers={"location": "http://10.0.0.5/secret"})
    )
    secret = respx.get("http://10.0.0.5/secret").mock(return_value=httpx.Response(200))
    with pytest.raises(FetchError, match="private or local"):
        fetch("https://example.org/go")
    assert not secret.called


@respx.mock
def test_redirects_are_followed_within_the_limit() -> None:
    respx.get("https://example.org/a").mock(
        return_value=httpx.Response(301, headers={"location": "https://example.org/b"})
    )
    respx.get("https://example.org/b").mock(
        return_value=httpx.Response(200, text="landed", headers={"content-type": "text/plain"})
    )
    page = fetch("https://example.org/a")
    assert (page.url, page.status, page.content, page.content_type) == (
        "https://example.org/b",
        200,
        b"landed",
        "text/plain",
    )
    respx.get("https://example.org/loop").mock(
        return_value=httpx.Response(302, headers={"location": "https://example.org/loop"})
    )
    with pytest.raises(FetchError, match="redirects"):
        fetch("https://example.org/loop", FetchPolicy(max_redirects=3))


@respx.mock
def test_the_byte_cap_holds_with_and_without_a_content_length() -> None:
    respx.get("https://example.org/declared").mock(
        return_value=httpx.Response(200, content=b"x" * 5000)
    )
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        fetch("https://example.org/declared", FetchPolicy(max_bytes=1000))

    def chunks() -> Iterator[bytes]:
        yield from [b"y" * 600] * 5

    respx.get("https://example.org/streamed").mock(
        return_value=httpx.Response(200, stream=httpx.ByteStream(b"".join(chunks())))
    )
    with pytest.raises(FetchError, match="larger than"):
        fetch("https://example.org/streamed", FetchPolicy(max_bytes=1000))
    assert len(fetch("https://example.org/streamed", FetchPolicy(max_bytes=3000)).content) == 3000


@respx.mock
def test_timeouts_and_connection_failures_are_fetch_errors() -> None:
    respx.get("https://slow.example.org/").mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(FetchError, match="timed out"):
        fetch("https://slow.example.org/", FetchPolicy(timeout=0.5))
    respx.get("https://down.example.org/").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(FetchError, match="could not fetch"):
        fetch("https://down.example.org/")


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello from the local network"
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_names_are_checked_after_resolution(local_server: int) -> None:
    """A name (here the decimal form of 127.0.0.1, and localhost) that resolves to a
    private address is refused where the connection is made."""
    with pytest.raises(FetchError, match=r"resolves to a private or local address \(127"):
        fetch(f"http://2130706433:{local_server}/")
    with pytest.raises(httpcore.ConnectError, match="private or local"):
        GuardedBackend(allow_private=False).connect_tcp("localhost", local_server)


def test_private_addresses_can_be_allowed_for_local_use(local_server: int) -> None:
    policy = FetchPolicy(allow_private=True)
    page = fetch(f"http://127.0.0.1:{local_server}/", policy)
    assert (page.status, page.text) == (200, "hello from the local network")
    stream = GuardedBackend(allow_private=True).connect_tcp("localhost", local_server)
    stream.close()
