"""`knitter import` takes files, folders, zips and URLs mixed; each URL is fetched as its
turn comes, and a failing item never stops the batch nor leaves rows behind."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import respx

from api.accounts.users import workspace_id
from api.db.session import Caller, Connection, transaction_as
from api.importers.detect import parse
from api.importers.inputs import Input, UrlItem, collect
from api.importers.model import ItemError
from api.pipeline.ingest import import_paths
from tests.conftest import FIXTURES

SHARE_ID = "6770a2f4-5e1c-8000-a3b1-2c4d5e6f7a8b"
SHARE_URL = f"https://chatgpt.com/share/{SHARE_ID}"


def test_collect_mixes_files_folders_zips_and_urls(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# A")
    archive = tmp_path / "claude.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(FIXTURES / "claude" / "conversations.json", "conversations.json")
    items = list(
        collect(
            [
                SHARE_URL,
                str(notes),
                archive,
                "  https://youtu.be/kN1fE7wH3tQ  ",
                "ftp://example.org/x.txt",
                "javascript://alert(1)",
            ]
        )
    )
    assert items == [
        UrlItem(SHARE_URL),
        Input(str(notes / "a.md"), b"# A"),
        Input(
            f"{archive}:conversations.json",
            (FIXTURES / "claude" / "conversations.json").read_bytes(),
        ),
        UrlItem("https://youtu.be/kN1fE7wH3tQ"),
        ItemError("ftp://example.org/x.txt", "only http and https URLs can be imported"),
        ItemError("javascript://alert(1)", "only http and https URLs can be imported"),
    ]


def count_rows(conn: Connection, caller: Caller) -> tuple[int, int]:
    with transaction_as(conn, caller):
        row = conn.execute(
            "select (select count(*) from public.sources) as s,"
            " (select count(*) from public.chunks) as c"
        ).fetchone()
    assert row is not None
    return row["s"], row["c"]


@respx.mock
def test_a_mixed_batch_goes_on_past_failing_urls(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    respx.get(SHARE_URL).mock(
        return_value=httpx.Response(
            200, text=(FIXTURES / "chatgpt-share" / "share-react-router.html").read_text()
        )
    )
    respx.get("https://example.org/flaky").mock(return_value=httpx.Response(503))
    respx.get("https://chatgpt.com/share/0000aaaa-bbbb").mock(
        return_value=httpx.Response(200, text="<html><body><p>Log in</p></body></html>")
    )
    caller = make_user()
    ws = workspace_id(conn, caller)
    report = import_paths(
        conn,
        caller,
        ws,
        [
            "http://169.254.169.254/latest/meta-data/",
            "https://example.org/flaky",
            "https://chatgpt.com/share/0000aaaa-bbbb",
            SHARE_URL,
            FIXTURES / "takeout" / "MyActivity.json",
            FIXTURES / "pdf" / "field-guide.pdf",
            tmp_path / "missing.pdf",
        ],
    )
    assert [(f.item, f.message) for f in report.failed] == [
        (
            "http://169.254.169.254/latest/meta-data/",
            "refusing to fetch from a private or local address (169.254.169.254)",
        ),
        ("https://example.org/flaky", "the server answered HTTP 503"),
        (
            "https://chatgpt.com/share/0000aaaa-bbbb",
            "the page holds no shared conversation (neither React Router stream data,"
            " __remixContext nor __NEXT_DATA__): is it a ChatGPT share link?",
        ),
        (str(tmp_path / "missing.pdf"), "no such file or folder"),
    ]
    assert report.added == 4  # the share, two Gemini conversations, the PDF
    assert count_rows(conn, caller) == (4, report.passages)
    again = import_paths(conn, caller, ws, [SHARE_URL, FIXTURES / "pdf" / "field-guide.pdf"])
    assert (again.added, again.skipped, again.failed) == (0, 2, [])


@respx.mock
def test_an_export_zip_offered_at_a_url_is_read_like_a_local_zip() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.write(FIXTURES / "claude" / "conversations.json", "conversations.json")
        z.writestr("users.json", "[]")
    respx.get("https://files.example.org/claude-export.zip").mock(
        return_value=httpx.Response(
            200, content=buffer.getvalue(), headers={"content-type": "application/zip"}
        )
    )
    items = list(parse(UrlItem("https://files.example.org/claude-export.zip")))
    assert [type(i).__name__ for i in items] == [
        "Ignored",  # users.json, a side file of the export
        "Conversation",
        "Skipped",
        "ItemError",
        "Conversation",
    ]
