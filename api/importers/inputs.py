"""Turn what the user names (files, folders, zips, URLs) into bytes to parse, within limits.

Nothing is extracted to disk, so zip entry names cannot escape anywhere; sizes are checked
against the zip's directory and again while reading, so a lying header cannot blow up memory.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath, PurePosixPath
from typing import BinaryIO

from api.importers.model import Ignored, ItemError

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_ZIP_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
ZIP_MAGIC = b"PK\x03\x04"
# Inside an export (zip or unzipped folder), the files that hold the conversations; the rest
# (the HTML viewer, account details, feedback, attachments) are side files: counted, not
# parsed. ChatGPT and Claude name it conversations.json, newer ChatGPT exports split it into
# conversations-000.json, conversations-001.json, …; a Google Takeout zip keeps Gemini's
# activity under "My Activity/Gemini Apps/" (once "Bard").
EXPORT_MEMBER = re.compile(r"^conversations(-\d+)?\.json$", re.IGNORECASE)
# Claude's export keeps its projects (descriptions, instructions, documents) beside them.
PROJECTS_MEMBER = "projects.json"
TAKEOUT_ACTIVITY = re.compile(r"(^|/)(Gemini Apps|Bard)/MyActivity\.(json|html)$", re.IGNORECASE)
# Files only an export holds beside its conversations (ChatGPT's and Claude's): a zip of
# these without a conversations file is an export with nothing in it, not a zip of notes.
EXPORT_SIDE_FILES = {
    "chat.html",
    "user.json",
    "users.json",
    "message_feedback.json",
    "shared_conversations.json",
    "conversation_asset_file_names.json",
    "memories.json",
}
URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(frozen=True)
class Input:
    name: str
    data: bytes
    # Where fetched bytes came from, and what the server said they are.
    url: str | None = None
    content_type: str | None = None
    # What the user named that holds it (a zip, a folder); the report is per origin.
    origin: str | None = field(default=None, compare=False)


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
) -> Iterator[Input | UrlItem | ItemError | Ignored]:
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
            roots = _export_roots(files)
            side_files = 0
            for file in files:
                in_export = file.parent in roots or any(r in file.parents for r in roots)
                if in_export and not _is_export_member(file, files):
                    side_files += 1
                    continue
                for entry in _from_file(file, limits):
                    yield replace(entry, origin=str(path)) if isinstance(entry, Input) else entry
            if side_files:
                yield Ignored(str(path), side_files, origin=str(path))
        elif path.is_file():
            yield from _from_file(path, limits)
        elif path.exists():
            yield ItemError(str(path), "not a file or folder (a pipe, socket or device)")
        else:
            yield ItemError(str(path), "no such file or folder")


def from_upload(
    upload: Upload, limits: Limits = DEFAULT_LIMITS
) -> Iterator[Input | ItemError | Ignored]:
    """The inputs of an uploaded file, read lazily: one zip entry in memory at a time."""
    return _from_file(upload.path, limits, upload.name)


def _from_file(
    path: Path, limits: Limits, label: str | None = None
) -> Iterator[Input | ItemError | Ignored]:
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
) -> Iterator[Input | ItemError | Ignored]:
    """The entries of a zip worth importing: the export's conversations files when there
    are some (the rest are side files, counted), else every file in it."""
    try:
        with zipfile.ZipFile(file) as archive:
            entries = [
                info
                for info in archive.infolist()
                if not info.is_dir() and not _hidden(PurePosixPath(info.filename))
            ]
            chosen = _export_members(entries)
            if not chosen and any(
                PurePosixPath(e.filename).name.lower() in EXPORT_SIDE_FILES for e in entries
            ):
                yield ItemError(
                    label, "looks like a ChatGPT or Claude export but holds no conversations file"
                )
                return
            chosen = chosen or entries
            if len(chosen) < len(entries):
                yield Ignored(label, len(entries) - len(chosen), origin=label)
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
                yield Input(name, data, origin=label)
    except NotImplementedError:  # deflate64 (Windows' for large files), strong encryption
        yield ItemError(
            label, "packed in a way knitter cannot unpack; zip it again with standard compression"
        )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError):
        # Only what starts like a zip is opened as one: zipfile's "File is not a zip file"
        # then means a download that stopped part-way, most often.
        yield ItemError(
            label, "a damaged or incomplete zip (did its download finish?); download it again"
        )
    except RuntimeError as exc:  # encrypted entries
        yield ItemError(label, f"cannot read the zip: {exc}")


def _export_members(entries: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    exports = [e for e in entries if EXPORT_MEMBER.match(PurePosixPath(e.filename).name)]
    if exports:
        exports += [e for e in entries if PurePosixPath(e.filename).name == PROJECTS_MEMBER]
    activity = [e for e in entries if TAKEOUT_ACTIVITY.search(e.filename)]
    # Takeout writes the activity as JSON or as HTML; when both are there, they are the same.
    if any(e.filename.lower().endswith(".json") for e in activity):
        activity = [e for e in activity if e.filename.lower().endswith(".json")]
    return exports + activity


def _is_export_member(file: Path, files: list[Path]) -> bool:
    if EXPORT_MEMBER.match(file.name) or file.name == PROJECTS_MEMBER:
        return True
    if not TAKEOUT_ACTIVITY.search(file.as_posix()):
        return False
    # Takeout writes the activity as JSON or as HTML; when both are there, they are the same.
    return file.suffix.lower() == ".json" or file.with_suffix(".json") not in files


def _export_roots(files: list[Path]) -> set[Path]:
    """The folders of unzipped exports: where a conversations file lies (ChatGPT, Claude),
    or the Takeout folder above "My Activity/Gemini Apps/"."""
    roots = set()
    for file in files:
        if EXPORT_MEMBER.match(file.name):
            roots.add(file.parent)
        elif TAKEOUT_ACTIVITY.search(file.as_posix()):
            roots.add(file.parents[2] if len(file.parents) > 2 else file.parent)
    return roots


def _hidden(path: PurePath) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in path.parts)


def _mib(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB"
