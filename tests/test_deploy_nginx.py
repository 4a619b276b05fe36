"""deploy/nginx.conf (with nginx-app.conf and nginx-proxy.conf): the directives production
needs, then the real nginx (Debian's) checks a copy with a throwaway certificate and serves
it on loopback ports in front of a stand-in API: redirect, TLS, headers, SPA fallback,
asset caching, gzip, the /api/ proxy and its rate limits."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import crossplane  # type: ignore[import-untyped]
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
MAIN = DEPLOY / "nginx.conf"
APP = DEPLOY / "nginx-app.conf"
PROXY = DEPLOY / "nginx-proxy.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(
    NGINX is None,
    reason="nginx is not installed (Debian: apt-get install -y nginx-light); "
    "`make test` installs it",
)

Directive = dict[str, Any]


# --- parse level ---------------------------------------------------------------------------


def parse(path: Path) -> list[Directive]:
    """The directives of one file (includes not followed), as crossplane gives them."""
    payload = crossplane.parse(str(path), single=True, check_ctx=False, check_args=False)
    assert payload["status"] == "ok", payload["errors"]
    return cast(list[Directive], payload["config"][0]["parsed"])


def walk(block: list[Directive]) -> Iterator[Directive]:
    for d in block:
        yield d
        yield from walk(d.get("block", []))


def find(block: list[Directive], name: str) -> list[Directive]:
    return [d for d in walk(block) if d["directive"] == name]


def args_of(block: list[Directive], name: str) -> list[list[str]]:
    return [d["args"] for d in find(block, name)]


def headers_of(block: list[Directive]) -> dict[str, str]:
    return {a[0].lower(): a[1] for a in args_of(block, "add_header")}


def location(block: list[Directive], *args: str) -> list[Directive]:
    matches = [d for d in find(block, "location") if d["args"] == list(args)]
    assert len(matches) == 1, f"expected one location {args}"
    return cast(list[Directive], matches[0]["block"])


def test_events_and_rate_limit_zones() -> None:
    main = parse(MAIN)
    assert args_of(main, "worker_connections") == [["1024"]]
    zones = {a[1]: a for a in args_of(main, "limit_req_zone")}
    assert zones["zone=api:10m"] == ["$binary_remote_addr", "zone=api:10m", "rate=10r/s"]
    assert zones["zone=search:10m"] == ["$binary_remote_addr", "zone=search:10m", "rate=5r/s"]
    assert args_of(main, "limit_req_status") == [["429"]]
    assert args_of(main, "gzip") == [["on"]]
    gzip_types = args_of(main, "gzip_types")[0]
    assert {"application/javascript", "text/css", "application/json"} <= set(gzip_types)


def test_upstream_is_the_api_service() -> None:
    upstreams = find(parse(MAIN), "upstream")
    assert [u["args"] for u in upstreams] == [["api_upstream"]]
    assert args_of(upstreams[0]["block"], "server") == [["api:8000"]]


def test_http_redirects_and_tls_settings() -> None:
    main = parse(MAIN)
    servers = [s for s in find(main, "server") if "block" in s]
    plain = next(
        s["block"] for s in servers if ["80", "default_server"] in args_of(s["block"], "listen")
    )
    assert args_of(location(plain, "/"), "return") == [["301", "https://$host$request_uri"]]
    tls = next(
        s["block"] for s in servers if any("443" in a for a in args_of(s["block"], "listen"))
    )
    assert args_of(tls, "ssl_protocols") == [["TLSv1.2", "TLSv1.3"]]
    assert args_of(tls, "include") == [["/etc/nginx/knitter/app.conf"]]
    assert args_of(tls, "ssl_certificate") == [["/etc/nginx/certs/fullchain.pem"]]


def test_security_headers_and_caching() -> None:
    app = parse(APP)
    headers = headers_of(app)
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert headers["content-security-policy"] == "$knitter_csp"
    # add_header in a location would drop every header above for that location.
    assert all(not find(loc["block"], "add_header") for loc in find(app, "location"))
    assert args_of(location(app, "/"), "try_files") == [["$uri", "$uri/", "/index.html"]]
    maps = {m["args"][1]: m["block"] for m in find(parse(MAIN), "map")}
    cache = {d["directive"]: d["args"] for d in maps["$knitter_cache_control"]}
    assert cache["~^/assets/"] == ["public, max-age=31536000, immutable"]
    csp = {d["directive"]: d["args"][0] for d in maps["$knitter_csp"]}["default"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


def test_api_proxy_and_rate_limits() -> None:
    app = parse(APP)
    api = location(app, "/api/")
    assert args_of(api, "limit_req") == [["zone=api", "burst=20", "nodelay"]]
    assert args_of(api, "proxy_pass") == [["http://api_upstream/"]]
    search = location(app, "=", "/api/v1/search")
    assert args_of(search, "limit_req") == [["zone=search", "burst=10", "nodelay"]]
    assert args_of(search, "proxy_pass") == [["http://api_upstream/v1/search"]]
    for block in (api, search):
        assert args_of(block, "include") == [["/etc/nginx/knitter/proxy.conf"]]
    forwarded = {a[0]: a[1] for a in args_of(parse(PROXY), "proxy_set_header")}
    assert forwarded["Host"] == "$host"
    assert forwarded["X-Real-IP"] == "$remote_addr"
    assert forwarded["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert forwarded["X-Forwarded-Proto"] == "$knitter_forwarded_proto"


# --- the real nginx ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def substitute(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in the config: update this test"
        text = text.replace(old, new)
    return text


@dataclass
class Site:
    root: Path
    conf: Path
    http: int
    https: int
    behind_proxy: int
    upstream: int


def write_site(root: Path, upstream_port: int) -> Site:
    """A copy of the config that runs here: loopback ports, files under root, and the API
    at 127.0.0.1 (only the host of `server api:8000` changes; `api` resolves on Compose's
    network and in the Kubernetes namespace, not on this machine)."""
    root.chmod(0o755)  # the workers (nobody) read the site
    html = root / "html"
    (html / "assets").mkdir(parents=True)
    (html / "index.html").write_text("<!doctype html><title>knitter</title><div id=app></div>")
    (html / "assets" / "app-3f9a1c.js").write_text("console.log('knitter');\n" * 200)
    for path in [html, html / "assets", *html.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (root / "logs").mkdir()
    cert, key = self_signed(root)
    http, https, behind_proxy = free_port(), free_port(), free_port()
    main = substitute(
        MAIN.read_text(),
        {
            "listen 80 default_server;": f"listen 127.0.0.1:{http} default_server;",
            "listen 443 ssl http2 default_server;": f"listen 127.0.0.1:{https} ssl http2;",
            "listen 8080;": f"listen 127.0.0.1:{behind_proxy};",
            "/etc/nginx/certs/fullchain.pem": str(cert),
            "/etc/nginx/certs/privkey.pem": str(key),
            "/etc/nginx/knitter/app.conf": str(root / "app.conf"),
            "/var/log/nginx/": f"{root}/logs/",
            "/var/www/certbot": str(html),
            "server api:8000;": f"server 127.0.0.1:{upstream_port};",
        },
    )
    app = substitute(
        APP.read_text(),
        {
            "root /usr/share/nginx/html;": f"root {html};",
            "/etc/nginx/knitter/proxy.conf": str(root / "proxy.conf"),
        },
    )
    conf = root / "nginx.conf"
    conf.write_text(main)
    (root / "app.conf").write_text(app)
    (root / "proxy.conf").write_text(PROXY.read_text())
    return Site(root, conf, http, https, behind_proxy, upstream_port)


def nginx_command(site: Site, *extra: str) -> list[str]:
    assert NGINX is not None
    return [
        NGINX,
        "-p",
        str(site.root),
        "-e",
        str(site.root / "logs" / "startup.log"),
        "-c",
        str(site.conf),
        *extra,
    ]


class EchoAPI(BaseHTTPRequestHandler):
    """Stands in for the API: answers with the path and headers it was sent."""

    protocol_version = "HTTP/1.1"

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"path": self.path, "headers": dict(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Frame-Options", "SAMEORIGIN")  # nginx's own copy must win
        self.end_headers()
        self.wfile.write(body)

    do_GET = _echo
    do_POST = _echo

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian: apt-get install -y nginx-light)")
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), EchoAPI)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    root = Path(tempfile.mkdtemp(prefix="knitter-nginx-"))
    site = write_site(root, int(upstream.server_address[1]))
    proc = subprocess.Popen(
        nginx_command(site, "-g", f"pid {root}/nginx.pid; daemon off;"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", site.https), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"nginx did not start: {err}")
                time.sleep(0.05)
        yield site
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()
        shutil.rmtree(root, ignore_errors=True)


@needs_nginx
def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    site = write_site(tmp_path, free_port())
    result = subprocess.run(
        nginx_command(site, "-t", "-g", f"pid {tmp_path}/nginx.pid;"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(verify=False, follow_redirects=False, timeout=10) as c:  # noqa: S501
        yield c


@needs_nginx
def test_http_redirects_to_https(site: Site, client: httpx.Client) -> None:
    r = client.get(f"http://127.0.0.1:{site.http}/search?q=sourdough")
    assert r.status_code == 301
    assert r.headers["location"] == "https://127.0.0.1/search?q=sourdough"
    assert client.get(f"http://127.0.0.1:{site.http}/healthz").status_code == 200


@needs_nginx
def test_tls_versions(site: Site) -> None:
    import ssl

    for version, accepted in [
        (ssl.TLSVersion.TLSv1_2, True),
        (ssl.TLSVersion.TLSv1_3, True),
    ]:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer old versions
        try:
            ctx.minimum_version = ctx.maximum_version = version
        except ValueError:
            continue
        try:
            with (
                socket.create_connection(("127.0.0.1", site.https), timeout=5) as raw,
                ctx.wrap_socket(raw) as tls,
            ):
                assert accepted, f"{version.name} was accepted"
                assert tls.version() == version.name.replace("_", ".")
        except ssl.SSLError:
            assert not accepted, f"{version.name} was refused"


@needs_nginx
def test_spa_headers_fallback_and_assets(site: Site, client: httpx.Client) -> None:
    base = f"https://127.0.0.1:{site.https}"
    home = client.get(f"{base}/")
    assert home.status_code == 200 and "<title>knitter</title>" in home.text
    assert home.headers["x-frame-options"] == "DENY"
    assert home.headers["x-content-type-options"] == "nosniff"
    assert home.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert home.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert home.headers["cache-control"] == "no-cache"

    deep = client.get(f"{base}/workspaces/42/threads")
    assert deep.status_code == 200 and deep.text == home.text

    asset = client.get(f"{base}/assets/app-3f9a1c.js", headers={"Accept-Encoding": "gzip"})
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-encoding"] == "gzip"
    assert asset.headers["x-frame-options"] == "DENY"
    assert asset.text.startswith("console.log('knitter');")

    missing = client.get(f"{base}/assets/app-000000.js")
    assert missing.status_code == 404


@needs_nginx
def test_api_is_proxied_without_its_prefix(site: Site, client: httpx.Client) -> None:
    r = client.get(f"https://127.0.0.1:{site.https}/api/v1/imports/abc?x=1")
    assert r.status_code == 200
    seen = r.json()
    assert seen["path"] == "/v1/imports/abc?x=1"
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["host"] == "127.0.0.1"
    assert headers["x-real-ip"] == "127.0.0.1"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "https"
    assert r.headers.get_list("x-frame-options") == ["DENY"]
    assert "cache-control" not in r.headers
    assert "content-security-policy" not in r.headers  # the API sends its own
    # Prometheus scrapes the API directly; the public site does not pass its metrics on.
    assert client.get(f"https://127.0.0.1:{site.https}/api/metrics").status_code == 404


@needs_nginx
def test_behind_a_tls_proxy(site: Site, client: httpx.Client) -> None:
    base = f"http://127.0.0.1:{site.behind_proxy}"
    assert client.get(f"{base}/").status_code == 200  # no redirect loop behind the ingress
    seen = client.get(f"{base}/api/health", headers={"X-Forwarded-Proto": "https"}).json()
    assert seen["path"] == "/health"
    assert {k.lower(): v for k, v in seen["headers"].items()}["x-forwarded-proto"] == "https"


def burst(client: httpx.Client, url: str, n: int) -> list[int]:
    return [client.post(url, json={"query": "x"}).status_code for _ in range(n)]


@needs_nginx
def test_rate_limits(site: Site, client: httpx.Client) -> None:
    base = f"https://127.0.0.1:{site.https}"
    # Search: 5 r/s with a burst of 10, so the first 11 pass at once and a quick run of
    # 40 is refused well before its end.
    search = burst(client, f"{base}/api/v1/search", 40)
    assert search[:11] == [200] * 11
    assert search.count(429) >= 10
    # The rest of the API: 10 r/s with a burst of 20 (a separate zone).
    general = burst(client, f"{base}/api/v1/embed", 60)
    assert general[:21] == [200] * 21
    assert general.count(429) >= 10
