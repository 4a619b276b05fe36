"""Uploads and URL imports stay bounded: caps hold while the bytes arrive, a zip is read
an entry at a time after the response, and a URL import is held to the caller's cap.
Real app, real embedded PostgreSQL; only the remote web page is replayed (respx)."""

from __future__ import annotations

import contextlib
import io
import select
import socket
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx
import uvicorn
from fastapi.testclient import TestClient

from api.db.session import Caller
from api.http.app import create_app
from tests.test_api import auth, make_settings, token

MIB = 1024 * 1024


@pytest.fixture
def served(db_url: str) -> Iterator[str]:
    """The API under a real uvicorn on loopback (the test client reads bodies whole)."""
    app = create_app(make_settings(db_url, guest_max_upload_bytes=5 * MIB))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.05)
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_the_guest_cap_holds_while_a_chunked_body_arrives(
    served: str, make_user: Callable[[], Caller]
) -> None:
    """40 MiB sent without a Content-Length to a 5 MiB guest cap: the 413 comes once the
    cap is passed, not after the whole body was read."""
    host, port = served.split(":")
    boundary = "knitterboundary"
    head = (
        f"POST /v1/imports HTTP/1.1\r\nHost: {served}\r\n"
        f"Authorization: Bearer {token(make_user(), anonymous=True)}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    piece = b"x" * (256 * 1024)
    sent = 0
    answer = b""
    with socket.create_connection((host, int(port))) as conn:
        conn.sendall(head + f"{len(part):x}\r\n".encode() + part + b"\r\n")
        try:
            while sent < 40 * MIB:
                conn.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                sent += len(piece)
                if select.select([conn], [], [], 0)[0]:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what we want
        conn.settimeout(10)
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # Loopback socket buffers hold a few MiB in flight; the whole 40 never went.
    assert sent < 20 * MIB, sent


def zip_of(entries: int, size: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for i in range(entries):
            archive.writestr(f"notes/{i}.txt", b"\n" * size)
    return out.getvalue()


def test_a_small_zip_that_unpacks_large_is_read_an_entry_at_a_time(
    db_url: str, make_user: Callable[[], Caller]
) -> None:
    """~100 KiB of zip, 100 MiB unpacked: every entry used to be unpacked at once, in the
    request. Now the job reads one at a time, so the peak stays near one entry."""
    data = zip_of(20, 5 * MIB)
    assert len(data) < 200 * 1024
    me = make_user()
    with TestClient(create_app(make_settings(db_url))) as c:
        tracemalloc.start()
        try:
            response = c.post(
                "/v1/imports",
                files=[("files", ("bomb.zip", data, "application/zip"))],
                headers=auth(me),
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert response.status_code == 202, response.text
        job = c.get(f"/v1/imports/{response.json()['id']}", headers=auth(me)).json()
    assert job["status"] == "succeeded", job
    assert job["failed"] == 20  # blank notes: each a clear item error
    assert peak < 40 * MIB, f"peak {peak / MIB:.0f} MiB"


@respx.mock
def test_a_url_import_is_held_to_the_callers_cap(
    db_url: str, make_user: Callable[[], Caller]
) -> None:
    page = zip_of(1, 2 * MIB)
    respx.get("https://downloads.example.org/export.zip").mock(
        return_value=httpx.Response(200, content=page, headers={"content-type": "application/zip"})
    )
    respx.get("https://downloads.example.org/big.html").mock(
        return_value=httpx.Response(200, content=b"<p>" + b"x" * (2 * MIB))
    )
    settings = make_settings(db_url, guest_max_upload_bytes=MIB)
    me = make_user()
    with TestClient(create_app(settings)) as c:
        response = c.post(
            "/v1/imports",
            json={
                "urls": [
                    "https://downloads.example.org/export.zip",
                    "https://downloads.example.org/big.html",
                ]
            },
            headers=auth(me, anonymous=True),
        )
        assert response.status_code == 202, response.text
        job = c.get(f"/v1/imports/{response.json()['id']}", headers=auth(me)).json()
    assert (job["added"], job["failed"]) == (0, 2), job
    messages = " ".join(e["message"] for e in job["errors"])
    assert "larger than" in messages, messages


def test_other_bodies_are_bounded_before_the_token_is_read(
    db_url: str, make_user: Callable[[], Caller]
) -> None:
    """FastAPI reads a JSON body whole before it checks the token, and a 422 echoes it: a
    200 MiB search body was read, parsed and sent back, by anyone. Now every body but an
    upload's is held to MAX_REQUEST_BYTES; an upload keeps its own, larger cap."""
    settings = make_settings(db_url, max_request_bytes=64 * 1024)
    big = b'{"query": "x", "pad": "' + b"a" * (100 * 1024) + b'"}'
    json_type = {"content-type": "application/json"}
    with TestClient(create_app(settings)) as c:
        assert c.post("/v1/search", content=big, headers=json_type).status_code == 413
        signed_in = {**auth(make_user()), **json_type}
        assert c.post("/v1/search", content=big, headers=signed_in).status_code == 413
        small = c.post("/v1/search", json={"query": "x", "keyword_only": True}, headers=signed_in)
        assert small.status_code == 200
        text = b"# Quinces\n\n" + b"quince jelly sets at 104 C. " * 4000
        note = ("note.md", text, "text/markdown")
        upload = c.post("/v1/imports", files=[("files", note)], headers=auth(make_user()))
        assert upload.status_code == 202, upload.text  # 112 KB, over the other bodies' limit
