"""Turn what the user names (files, folders, zips, URLs) into bytes to parse, within limits.

Nothing is extracted to disk, so zip entry names cannot escape anywhere; sizes are checked
against the zip's directory and again while reading, so a lying header cannot blow up memory.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath
from typing import BinaryIO

from api.importers.model import ItemError

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_ZIP_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
ZIP_MAGIC = b"PK\x03\x04"
# Inside an export zip, the file that holds the conversations; the rest (images, the HTML
# viewer) is not text to search. ChatGPT and Claude name it conversations.json; a Google
# Takeout zip keeps Gemini's activity under "My Activity/Gemini Apps/" (once "Bard").
EXPORT_MEMBERS = ("conversations.json",)
TAKEOUT_ACTIVITY = re.compile(r"(^|/)(Gemini Apps|Bard)/MyActivity\.(json|html)$", re.IGNORECASE)
URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(frozen=True)
class Input:
    name: str
    data: bytes
    # Where fetched bytes came from, and what the server said they are.
    url: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class UrlItem:
    """A URL to import: a URL importer fetches it (share links, videos, web pages)."""

    url: str


@dataclass(frozen=True)
class Upload:
    """A file uploaded to the API, kept on disk until its import job reads it (a zip entry
    by entry), so a request never holds an upload, or what it unpacks to, in memory."""

    name: str
    path: Path


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = MAX_FILE_BYTES
    max_zip_total_bytes: int = MAX_ZIP_TOTAL_BYTES
    max_zip_entries: int = MAX_ZIP_ENTRIES


DEFAULT_LIMITS = Limits()


def collect(
    paths: Iterable[str | Path], limits: Limits = DEFAULT_LIMITS
) -> Iterator[Input | UrlItem | ItemError]:
    for raw in paths:
        if isinstance(raw, str) and URL_SCHEME.match(raw.strip()):
            url = raw.strip()
            if url.split("://", 1)[0].lower() in ("http", "https"):
                yield UrlItem(url)
            else:
                yield ItemError(url, "only http and https URLs can be imported")
            continue
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path))
            )
            if not files:
                yield ItemError(str(path), "the folder has no files")
            for file in files:
                yield from _from_file(file, limits)
        elif path.is_file():
            yield from _from_file(path, limits)
        else:
            yield ItemError(str(path), "no such file or folder")


def from_upload(upload: Upload, limits: Limits = DEFAULT_LIMITS) -> Iterator[Input | ItemError]:
    """The inputs of an uploaded file, read lazily: one zip entry in memory at a time."""
    return _from_file(upload.path, limits, upload.name)


def _from_file(path: Path, limits: Limits, label: str | None = None) -> Iterator[Input | ItemError]:
    label = label or str(path)
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            yield ItemError(label, f"larger than the {_mib(limits.max_file_bytes)} limit")
            return
        with path.open("rb") as handle:
            is_zip = handle.read(4) == ZIP_MAGIC
        if is_zip:
            yield from from_zip(path, label, limits)
        else:
            yield Input(label, path.read_bytes())
    except OSError as exc:
        yield ItemError(label, f"cannot read: {exc.strerror or exc}")


def from_zip(
    file: Path | BinaryIO, label: str, limits: Limits = DEFAULT_LIMITS
) -> Iterator[Input | ItemError]:
    """The entries of a zip worth importing: the export's conversations file when there is
    one, else every file in it."""
    try:
        with zipfile.ZipFile(file) as archive:
            entries = [
                info
                for info in archive.infolist()
                if not info.is_dir() and not _hidden(PurePosixPath(info.filename))
            ]
            chosen = _export_members(entries) or entries
            if not chosen:
                yield ItemError(label, "the zip has no files")
                return
            if len(chosen) > limits.max_zip_entries:
                yield ItemError(label, f"more than {limits.max_zip_entries} files in the zip")
                return
            total = 0
            for info in chosen:
                name = f"{label}:{info.filename}"
                if info.file_size > limits.max_file_bytes:
                    yield ItemError(name, f"larger than the {_mib(limits.max_file_bytes)} limit")
                    continue
                total += info.file_size
                if total > limits.max_zip_total_bytes:
                    yield ItemError(
                        label, f"unpacks to more than {_mib(limits.max_zip_total_bytes)}"
                    )
                    return
                with archive.open(info) as member:
                    data = member.read(limits.max_file_bytes + 1)
                if len(data) > limits.max_file_bytes:
                    yield ItemError(name, f"larger than the {_mib(limits.max_file_bytes)} limit")
                    continue
                yield Input(name, data)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        yield ItemError(label, f"not a readable zip file: {exc}")
    except RuntimeError as exc:  # encrypted entries
        yield ItemError(label, f"cannot read the zip: {exc}")


def _export_members(entries: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    exports = [e for e in entries if PurePosixPath(e.filename).name in EXPORT_MEMBERS]
    activity = [e for e in entries if TAKEOUT_ACTIVITY.search(e.filename)]
    # Takeout writes the activity as JSON or as HTML; when both are there, they are the same.
    if any(e.filename.lower().endswith(".json") for e in activity):
        activity = [e for e in activity if e.filename.lower().endswith(".json")]
    return exports + activity


def _hidden(path: PurePath) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in path.parts)


def _mib(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB"
