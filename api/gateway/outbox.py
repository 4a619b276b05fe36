"""Mail the local stack would send. It has no mail server: each message is a file under
`$KNITTER_HOME/outbox/` (mode 0600: it holds a sign-in link) and `knitter dev` prints the
link on its console. Never through the logging module, so no log collector sees it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    link: str


# What a delivered mail is handed to besides the file (knitter dev: its console).
Notify = Callable[[Mail, Path], None]


class Outbox:
    def __init__(self, folder: Path, notify: Notify | None = None) -> None:
        self.folder = folder
        self.notify = notify

    def send(self, mail: Mail) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{secrets.token_hex(3)}.eml"
        text = f"To: {mail.to}\nSubject: {mail.subject}\n\n{mail.body}\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        if self.notify is not None:
            self.notify(mail, path)
        return path
