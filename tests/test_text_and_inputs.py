"""Notes (text, Markdown) and what `knitter import` accepts: files, folders, zips, limits."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from api.importers.detect import parse
from api.importers.inputs import Input, Limits, collect
from api.importers.model import Conversation, ItemError

NOTES = """# Trip planning

Pack the tent and the stove.

## Budget

```
# not a heading: a comment in code
total = 420
```

Fuel is the biggest cost.
"""


def parse_one(name: str, data: bytes) -> Conversation | ItemError:
    [item] = list(parse(Input(name, data)))
    assert isinstance(item, Conversation | ItemError)
    return item


def test_markdown_keeps_sections_and_headings() -> None:
    note = parse_one("trip.md", NOTES.encode())
    assert isinstance(note, Conversation)
    assert (note.kind, note.platform, note.title) == ("markdown", "notes", "Trip planning")
    assert [m.metadata["heading"] for m in note.messages] == ["Trip planning", "Budget"]
    assert "# not a heading" in note.messages[1].text
    assert all(m.role == "document" for m in note.messages)


def test_plain_text_is_one_document_titled_by_its_file() -> None:
    note = parse_one("ideas.txt", "Café idea: ☕ with oat milk.\r\nSecond line.".encode())
    assert isinstance(note, Conversation)
    assert (note.kind, note.title) == ("text", "ideas")
    assert note.messages[0].text == "Café idea: ☕ with oat milk.\nSecond line."


def test_detection_is_by_content_not_only_extension() -> None:
    note = parse_one("notes.json.txt", b"[not json at all, just brackets]")
    assert isinstance(note, Conversation) and note.kind == "text"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
        ("latin1.txt", "café".encode("latin-1"), "not UTF-8"),
        ("empty.md", b"  \n\n", "empty"),
    ],
)
def test_unreadable_notes_give_clear_errors(name: str, data: bytes, message: str) -> None:
    item = parse_one(name, data)
    assert isinstance(item, ItemError) and message in item.message


def test_folders_are_walked_and_hidden_files_left_out(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.md").write_text("# One")
    (tmp_path / "two.txt").write_text("two")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("secret")
    names = [i.name for i in collect([tmp_path]) if isinstance(i, Input)]
    assert names == [str(tmp_path / "a" / "one.md"), str(tmp_path / "two.txt")]


def test_zip_of_notes_yields_its_files_and_never_writes_to_disk(tmp_path: Path) -> None:
    archive = tmp_path / "notes.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("notes/one.md", "# One")
        z.writestr("../../escape.txt", "still just a name")
        z.writestr("__MACOSX/._one.md", "junk")
    before = set(tmp_path.parent.rglob("*"))
    items = list(collect([archive]))
    # Entries that climb out of the archive ("..") are left out with the hidden ones.
    assert [i.name for i in items if isinstance(i, Input)] == [f"{archive}:notes/one.md"]
    assert set(tmp_path.parent.rglob("*")) == before


def test_zip_limits_stop_bombs(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.txt", "0" * 1_000_000)  # compresses to about 1 KB
        z.writestr("small.txt", "fine")
    items = list(collect([archive], Limits(max_file_bytes=10_000)))
    errors = [i for i in items if isinstance(i, ItemError)]
    assert [e.item for e in errors] == [f"{archive}:big.txt"]
    assert "limit" in errors[0].message
    assert [i.name for i in items if isinstance(i, Input)] == [f"{archive}:small.txt"]
    total = list(collect([archive], Limits(max_zip_total_bytes=100_000)))
    assert any(isinstance(i, ItemError) and "unpacks to more" in i.message for i in total)


def test_oversized_and_corrupt_files(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2000)
    corrupt = tmp_path / "broken.zip"
    corrupt.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    items = list(collect([big, corrupt], Limits(max_file_bytes=1000)))
    errors = [i for i in items if isinstance(i, ItemError)]
    assert len(errors) == len(items) == 2
    assert "limit" in errors[0].message and "zip" in errors[1].message


def test_an_unreadable_zip_says_what_to_do_not_what_zipfile_said(tmp_path: Path) -> None:
    """zipfile says "File is not a zip file" of a zip cut short (a download that stopped)."""
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("conversations.json", "[]" + " " * 50_000)
    cut = tmp_path / "export.zip"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    # A method zipfile cannot unpack (deflate64, which Windows uses for large files).
    deflate64 = tmp_path / "large.zip"
    with zipfile.ZipFile(deflate64, "w") as z:
        z.writestr("conversations.json", "[]")
    data = bytearray(deflate64.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[8:10] = data[central + 10 : central + 12] = (9).to_bytes(2, "little")
    deflate64.write_bytes(bytes(data))
    items = list(collect([cut, deflate64]))
    assert [(i.item, i.message) for i in items if isinstance(i, ItemError)] == [
        (str(cut), "a damaged or incomplete zip (did its download finish?); download it again"),
        (
            str(deflate64),
            "packed in a way knitter cannot unpack; zip it again with standard compression",
        ),
    ]


def test_a_pipe_or_a_device_is_named_for_what_it_is(tmp_path: Path) -> None:
    """They exist, so "no such file or folder" (what they got) was wrong; reading a pipe
    would wait for a writer forever."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    items = list(collect([pipe, Path("/dev/null"), tmp_path / "missing.md"]))
    assert [i.message for i in items if isinstance(i, ItemError)] == [
        "not a file or folder (a pipe, socket or device)",
        "not a file or folder (a pipe, socket or device)",
        "no such file or folder",
    ]
