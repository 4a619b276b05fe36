"""The `knitter` command line."""

from __future__ import annotations

import contextlib
import html
import json
import re
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from api import __version__
from api.accounts.keyring import Keyring
from api.accounts.users import caller_for, ensure_workspace, workspace_id
from api.answers import answering
from api.config import Settings, load_settings
from api.db.local import database, local_encryption_key, start_embedded
from api.db.migrate import migrate as apply_migrations
from api.db.session import Caller, Connection, transaction_as
from api.embeddings import catalog
from api.embeddings.local import use_model_dir
from api.errors import KnitterError
from api.importers.model import ItemError, Skipped
from api.importers.options import DEFAULT_OPTIONS, LANGUAGE_CODE, ImportOptions
from api.pipeline.after_embedding import place_in_topic_threads
from api.pipeline.embedding_queue import drain, pending_count, stages
from api.pipeline.ingest import ImportReport, ItemReport, import_paths, within
from api.providers.choice import KeyFor, key_for, pick_chat_model
from api.search.hybrid import SearchRequest, embed_query, search
from api.topics import grouping

MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


class KnitterGroup(click.Group):
    """Turns KnitterError into one line on stderr and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KnitterError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=KnitterGroup)
@click.version_option(__version__, prog_name="knitter")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the local stack keeps its data [env: KNITTER_HOME].",
)
@click.option(
    "--database-url",
    metavar="URL",
    help="Use this PostgreSQL (e.g. a Supabase project) instead of the embedded one "
    "[env: DATABASE_URL].",
)
@click.option("--db-port", type=click.IntRange(1, 65535), help="Port of the embedded database.")
@click.pass_context
def cli(
    ctx: click.Context, home: Path | None, database_url: str | None, db_port: int | None
) -> None:
    """knitter: keep, search and reuse your AI conversations."""
    overrides: dict[str, Any] = {
        k: v
        for k, v in {"home": home, "database_url": database_url, "db_port": db_port}.items()
        if v is not None
    }
    ctx.obj = load_settings(**overrides)
    use_model_dir(ctx.obj.model_path)


@cli.command()
@click.pass_obj
def migrate(settings: Settings) -> None:
    """Apply pending migrations (and, off Supabase, the local Supabase shim)."""
    with database(settings, current_schema=False) as conn:
        applied = apply_migrations(conn)
    if applied:
        for migration in applied:
            click.echo(f"applied {migration.path.name}")
    else:
        click.echo("the database is up to date")


@cli.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option("--user", "email", required=True, help="Whose data this is (email).")
@click.option("--workspace", help="Workspace name (created if missing); default: personal.")
@click.option("--no-embed", is_flag=True, help="Only store passages; embed them later.")
@click.option(
    "--language",
    "languages",
    multiple=True,
    metavar="CODE",
    help="YouTube transcript language, in order of preference (repeatable; default: en).",
)
@click.option(
    "--dry-run", is_flag=True, help="Read everything and print the report; write nothing."
)
@click.pass_obj
def import_(
    settings: Settings,
    paths: tuple[str, ...],
    email: str,
    workspace: str | None,
    no_embed: bool,
    languages: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Import files, folders, zips and links (PATHS may be URLs).

    Formats are detected by content (and links by their address). Prints, per item, the
    format, the conversations added and, when there are any, updated, already imported,
    skipped (with why) and failed, the messages kept and what was left out (images, audio,
    attached files, reasoning, hidden tool and system messages, an export's side files),
    then the totals in all. Exit status 1 if any item failed (an export with no
    conversations fails); the others are imported. With --dry-run nothing is written (not
    even the user or the workspace).
    """
    for code in languages:
        if not re.fullmatch(LANGUAGE_CODE, code):
            raise click.BadParameter(
                f"{code!r} is not a language code such as de or pt-BR", param_hint="--language"
            )
    with database(settings) as conn:
        options = ImportOptions(youtube_languages=languages or DEFAULT_OPTIONS.youtube_languages)
        if dry_run:
            report = _dry_run(conn, email, workspace, paths, options)
            _clear_progress()
            _print_report(report)
            sys.exit(1 if report.failed else 0)
        catalog.register_server_models(conn, settings)  # new workspaces get KNITTER_LOCAL_MODEL
        caller = caller_for(conn, email, create=True)
        ws = ensure_workspace(conn, caller, workspace) if workspace else workspace_id(conn, caller)
        report = import_paths(
            conn, caller, ws, paths, on_progress=_import_progress, options=options
        )
        _clear_progress()
        _print_report(report)
        if not no_embed:
            keyring = Keyring.from_settings(settings)
            _embed_pending(conn, ws, key_for(conn, keyring, settings, caller.user_id))
            place_in_topic_threads(conn, settings, caller, ws)
    if report.failed:
        sys.exit(1)


@cli.command("search")
@click.argument("query", callback=lambda _c, _p, v: _asked(v))
@click.option("--user", "email", required=True, help="Search as this user (email).")
@click.option("--workspace", help="Only this workspace (name).")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 50))
@click.option("--platform", multiple=True, help="Only these platforms (repeatable).")
@click.option("--role", multiple=True, help="Only these roles: user, assistant, … (repeatable).")
@click.option("--keyword-only", is_flag=True, help="Skip the semantic branch.")
@click.option("--json", "as_json", is_flag=True, help="Print results as a JSON array.")
@click.pass_obj
def search_command(
    settings: Settings,
    query: str,
    email: str,
    workspace: str | None,
    limit: int,
    platform: tuple[str, ...],
    role: tuple[str, ...],
    keyword_only: bool,
    as_json: bool,
) -> None:
    """Hybrid (keyword + semantic) search, run as the user under row-level security."""
    with database(settings) as conn:
        caller = caller_for(conn, email)
        ws = workspace_id(conn, caller, workspace)
        filters: dict[str, Any] = {}
        if workspace:
            filters["workspace_id"] = str(ws)
        if platform:
            filters["platform"] = list(platform)
        if role:
            filters["role"] = list(role)
        embedding = None
        if not keyword_only:
            keyring = Keyring.from_settings(settings)
            try:
                embedding = embed_query(
                    conn,
                    caller,
                    ws,
                    query,
                    api_key=key_for(conn, keyring, settings, caller.user_id),
                )
            except KnitterError as exc:
                click.echo(f"warning: keyword results only ({exc})", err=True)
        rows = search(conn, caller, SearchRequest(query, limit, filters), embedding)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("no results")
    for n, row in enumerate(rows, 1):
        when = row["created_at"].date().isoformat() if row["created_at"] else ""
        click.echo(
            click.style(f"{n}. {row['source_title']}", bold=True)
            + click.style(f"  [{row['platform']} · {row['role']} · {when}]", dim=True)
            + f"  score {row['score']:.4f}"
        )
        click.echo("   " + _terminal_snippet(row["snippet"]))


@cli.command("ask")
@click.argument("question", callback=lambda _c, _p, v: _asked(v))
@click.option("--user", "email", required=True, help="Ask as this user (email).")
@click.option("--workspace", help="Only this workspace (name).")
@click.option("--limit", default=6, show_default=True, type=click.IntRange(1, 20))
@click.option(
    "--provider",
    type=click.Choice(["auto", "openai", "gemini", "extractive"]),
    default="auto",
    show_default=True,
    help="auto: the user's key, else the server's (OpenAI, then Gemini), else extractive.",
)
@click.option("--model", help="The chat model (default: gpt-4o-mini, gemini-2.5-flash).")
@click.option("--json", "as_json", is_flag=True, help="Print answer and citations as JSON.")
@click.pass_obj
def ask_command(
    settings: Settings,
    question: str,
    email: str,
    workspace: str | None,
    limit: int,
    provider: str,
    model: str | None,
    as_json: bool,
) -> None:
    """Answer a question from the user's own passages, citing them as [1], [2]…"""
    with database(settings) as conn:
        caller = caller_for(conn, email)
        ws = workspace_id(conn, caller, workspace)
        result = answering.ask(
            conn,
            caller,
            question,
            settings,
            Keyring.from_settings(settings),
            workspace_id=ws,
            limit=limit,
            filters={"workspace_id": str(ws)} if workspace else {},
            provider=provider,
            model_name=model,
        )
        text = ""
        for piece in result.pieces:  # streamed as the model writes
            text += piece
            if not as_json:
                click.echo(piece, nl=False)
    passages = result.passages
    if as_json:
        body = {
            "answer": text,
            "citations": [p.model_dump(mode="json") for p in passages],
            "cited": answering.cited(text, passages),
            "extractive": result.extractive,
            "provider": result.provider,
            "model": result.model,
        }
        click.echo(json.dumps(body, indent=2, default=str))
        return
    click.echo("\n")
    # The passages the answer cites, in its order (as the web app lists them).
    by_number = {p.n: p for p in passages}
    for n in answering.cited(text, passages):
        p = by_number[n]
        when = f" · {p.created_at:%Y-%m-%d}" if p.created_at else ""
        click.echo(
            click.style(f"[{p.n}] {p.source_title or 'Untitled'}", bold=True)
            + click.style(f"  [{p.platform} · {p.role}{when}]", dim=True)
        )


@cli.command("threads")
@click.option("--user", "email", required=True, help="As this user (email).")
@click.option("--workspace", help="Workspace name; default: personal.")
@click.option("--regroup", is_flag=True, help="Cluster all conversations afresh.")
@click.option(
    "--similarity",
    type=click.FloatRange(0.05, 0.95),
    help="With --regroup: how alike conversations must be to share a thread (kept).",
)
@click.option(
    "--provider",
    type=click.Choice(["auto", "openai", "gemini", "extractive"]),
    default="auto",
    show_default=True,
    help="Who titles new threads; extractive: a phrase of their conversations' titles.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the threads as a JSON array.")
@click.pass_obj
def threads_command(
    settings: Settings,
    email: str,
    workspace: str | None,
    regroup: bool,
    similarity: float | None,
    provider: str,
    as_json: bool,
) -> None:
    """Topic threads: place newly embedded conversations (or --regroup all of them) and
    list the threads with their stats."""
    if similarity is not None and not regroup:
        raise click.UsageError("--similarity needs --regroup")
    with database(settings) as conn:
        caller = caller_for(conn, email)
        ws = workspace_id(conn, caller, workspace)
        chat = pick_chat_model(
            conn, Keyring.from_settings(settings), settings, caller.user_id, provider
        )
        if regroup:
            grouping.regroup(conn, caller, ws, similarity)
        else:
            grouping.assign_new(conn, caller, ws)
        grouping.retitle(conn, caller, ws, chat)
        with transaction_as(conn, caller):
            rows = conn.execute("select * from public.list_topic_threads(%s)", [ws]).fetchall()
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("no topic threads yet: conversations join one once their passages are embedded")
    for row in rows:
        stats = (
            f"{row['conversations']} conversations · {row['passages']} passages"
            f" · {', '.join(row['platforms'])}"
        )
        click.echo(
            click.style(row["title"] or "Untitled", bold=True)
            + click.style(f"  [{stats}]", dim=True)
        )


@cli.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the models as a JSON array.")
@click.pass_obj
def models_command(settings: Settings, as_json: bool) -> None:
    """List the embedding models a workspace can use.

    Registers the models this configuration can embed with first: the local default
    (all-MiniLM-L6-v2), the KNITTER_LOCAL_MODEL one (the default of new workspaces), and
    OpenAI's text-embedding-3-small and Gemini's gemini-embedding-001 (768 dimensions)
    when OPENAI_API_KEY or GEMINI_API_KEY is set.
    """
    with database(settings) as conn:
        catalog.register_server_models(conn, settings)
        models = catalog.list_models(conn, Caller.service(), settings)
    if as_json:
        click.echo(json.dumps([{**vars(m), "label": m.label} for m in models], indent=2))
        return
    for m in models:
        notes = [n for n, on in (("default", m.is_default), ("unavailable", not m.available)) if on]
        click.echo(
            f"{m.id:>4}  {m.provider}:{m.name}  {m.dims}d"
            + (f"  ({', '.join(notes)})" if notes else "")
        )


@cli.group("workspace")
def workspace_group() -> None:
    """A workspace's settings."""


@workspace_group.command("model")
@click.argument("name", required=False)
@click.option("--user", "email", required=True, help="As this user (email).")
@click.option("--workspace", help="Workspace name; default: personal.")
@click.option("--wait", is_flag=True, help="Re-embed here and now, with a progress bar.")
@click.pass_obj
def workspace_model(
    settings: Settings, name: str | None, email: str, workspace: str | None, wait: bool
) -> None:
    """Show the workspace's embedding model, or switch it to NAME (an id, a name, or
    provider:name from `knitter models`).

    Switching queues every passage for the new model; the embedding worker (`knitter dev`,
    the API) re-embeds them in the background, or --wait does it here. Search keeps the
    current model until every passage has a vector of the new one. The current model's
    name cancels a switch under way. Editors and owners only.
    """
    with database(settings) as conn:
        catalog.register_server_models(conn, settings)
        caller = caller_for(conn, email)
        ws = workspace_id(conn, caller, workspace)
        if name is not None:
            model = catalog.find_model(catalog.list_models(conn, caller, settings), name)
            catalog.switch(conn, caller, settings, ws, model.id)
            if wait:
                keyring = Keyring.from_settings(settings)
                _embed_pending(conn, ws, key_for(conn, keyring, settings, caller.user_id))
        done = catalog.status(conn, caller, settings, ws)
    click.echo(f"model: {done.model.label}")
    if done.next_model is not None:
        click.echo(
            f"re-embedding {done.embedded} / {done.passages} with {done.next_model.label};"
            " search uses the model above until every passage is done"
        )


@cli.command("mcp")
@click.option("--user", "email", help="Act as this user (email), read-write; else KNITTER_TOKEN.")
@click.pass_obj
def mcp_command(settings: Settings, email: str | None) -> None:
    """The MCP server over stdio, for Claude Desktop, Claude Code, Cursor and other clients.

    It acts for the personal access token in the KNITTER_TOKEN environment variable
    (read or read-write, as made in Settings; checked on every call) or, with --user, for
    that user of this database. stdout carries the MCP protocol only.
    """
    import os

    from pydantic import SecretStr

    from api.mcp.stdio import serve

    token = os.environ.get("KNITTER_TOKEN", "").strip()
    if bool(token) == bool(email):
        raise click.UsageError("give either --user EMAIL or a token in KNITTER_TOKEN")
    serve(settings, token=SecretStr(token) if token else None, email=email)


@cli.command("pack")
@click.option("--user", "email", required=True, help="As this user (email).")
@click.option("--conversation", "conversation_id", type=click.UUID, help="A conversation id.")
@click.option("--thread", "thread_id", type=click.UUID, help="A topic thread id.")
@click.option("--question", help="Pack the answer to this question.")
@click.option(
    "--budget",
    default=2000,
    show_default=True,
    type=click.IntRange(200, 32000),
    help="The most tokens the pack may take.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@click.pass_obj
def pack_command(
    settings: Settings,
    email: str,
    conversation_id: UUID | None,
    thread_id: UUID | None,
    question: str | None,
    budget: int,
    output: Path | None,
) -> None:
    """A context pack: Markdown with the goal, decisions, open questions, code and links to
    the cited passages of a conversation, a topic thread or an answer, within a token
    budget. Give exactly one of --conversation, --thread, --question."""
    from api.answers import packs

    if sum(v is not None for v in (conversation_id, thread_id, question)) != 1:
        raise click.UsageError("give exactly one of --conversation, --thread or --question")
    with database(settings) as conn:
        made = packs.make(
            conn,
            caller_for(conn, email),
            settings,
            Keyring.from_settings(settings),
            conversation_id=conversation_id,
            thread_id=thread_id,
            question=question,
            budget=budget,
        )
    if output is not None:
        output.write_text(made.markdown, encoding="utf-8")
        click.echo(f"wrote {output}: {made.tokens} tokens, {len(made.cited)} passages cited")
    else:
        click.echo(made.markdown, nl=False)


@cli.command()
@click.option(
    "--port",
    default=54321,
    show_default=True,
    envvar="KNITTER_PORT",
    type=click.IntRange(1, 65535),
    help="Port of the local origin [env: KNITTER_PORT].",
)
@click.pass_obj
def dev(settings: Settings, port: int) -> None:
    """Run the local stack until Ctrl-C, on one origin (127.0.0.1 only).

    The embedded database (migrated), the local Supabase gateway (/auth/v1, /rest/v1/rpc),
    the API (/v1, /health, /docs) with its embedding worker, and the web app
    (frontend/dist) at every other path, with its runtime configuration at /config.js.
    """
    import uvicorn
    from pydantic import SecretStr

    from api.gateway import create_gateway, local_secrets, with_gateway
    from api.gateway.outbox import Mail
    from api.http.app import create_app
    from api.http.webapp import DIST, create_webapp, with_webapp

    if settings.database_url:
        raise KnitterError("knitter dev runs the embedded database; unset DATABASE_URL")
    started = start_embedded(settings)
    server, url, applied = started.server, started.url, started.applied
    try:
        keys = local_secrets(settings.home)
        origin = f"http://127.0.0.1:{port}"
        local = settings.model_copy(
            update={
                "environment": "development",
                "database_url": url,
                "supabase_url": origin,
                "supabase_jwt_secret": SecretStr(keys.jwt_secret),
                "encryption_key": settings.encryption_key
                or SecretStr(local_encryption_key(settings.home)),
                "embed_worker": True,
                "app_url": settings.app_url or origin,
                "cors_origins": [origin, *settings.cors_origins],
            }
        )
        web = create_webapp(origin, keys.anon_key, origin)

        def print_mail(mail: Mail, path: Path) -> None:
            # The local stack's only mail (password recovery) shows here, not in any log.
            click.echo(f"mail to {mail.to}: {mail.subject}\n  {mail.link}\n  (saved as {path})")

        gateway = create_gateway(local, url, on_mail=print_mail)
        app = with_gateway(with_webapp(create_app(local), web), gateway)
        click.echo(f"knitter {__version__}: local stack in {settings.home}")
        if applied:
            click.echo(f"applied {len(applied)} migration(s)")
        shown = server.display_url(server.running_port() or 0)
        click.echo(f"database: {shown}  (password in {server.password_file})")
        click.echo(f"origin:   {origin}  (API docs: {origin}/docs)")
        click.echo(f"anon key: {keys.anon_key}")
        click.echo(f"mail:     printed here and saved in {local.home / 'outbox'}")
        built = (DIST / "index.html").is_file()
        click.echo(f"web app:  {origin}/" if built else "web app:  not built (run `make frontend`)")
        click.echo("Press Ctrl-C to stop.")
        # No proxy in front of the local stack: a client's X-Forwarded-For is not believed.
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False
        )
        # uvicorn shuts down on Ctrl-C, then re-raises it: that is the normal way out.
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(config).run()
    finally:
        if server.started_here:
            server.stop()
            click.echo("stopped")


def _asked(text: str) -> str:
    """A query or question as the API takes it: 1 to 1000 characters once trimmed."""
    text = text.strip()
    if not text or len(text) > 1000:
        raise click.BadParameter("must be 1 to 1000 characters")
    return text


def _import_progress(report: ImportReport) -> None:
    if sys.stderr.isatty():
        done = report.added + report.updated + report.skipped + len(report.failed)
        click.echo(f"\r{done} items, {report.passages} passages…", nl=False, err=True)


def _clear_progress() -> None:
    if sys.stderr.isatty():
        click.echo("\r\033[K", nl=False, err=True)


def _dry_run(
    conn: Connection,
    email: str,
    workspace: str | None,
    paths: tuple[str, ...],
    options: ImportOptions,
) -> ImportReport:
    """The report an import would give, compared with what the user already has (nothing,
    for a user or workspace that does not exist yet)."""
    caller = Caller.service()
    ws: UUID | None = None
    with contextlib.suppress(KnitterError):  # no such user or workspace yet
        caller = caller_for(conn, email)
        ws = workspace_id(conn, caller, workspace)
    # A workspace id no row has: every conversation counts as new.
    target = ws or UUID(int=0)
    return import_paths(
        conn, caller, target, paths, on_progress=_import_progress, options=options, dry_run=True
    )


def _print_report(report: ImportReport) -> None:
    """One line per item the user named, what it skipped and its failures under it, then
    the totals."""
    under: dict[str, list[tuple[str, str]]] = {}
    entries: list[tuple[ItemError | Skipped, str, str]] = [
        *((f, "failed", f.message) for f in report.failed),
        *((e, "skipped", e.reason) for e in report.empty),
    ]
    for entry, word, why in entries:
        under.setdefault(entry.origin or entry.item, []).append((word, within(entry, why)))
    for item in report.items.values():
        click.echo(f"{item.item}: {_item_line(item)}")
        for word, line in under.get(item.item, []):
            click.echo(f"  {word}: {line}", err=word == "failed")
    found = _found(
        report.added, report.updated, report.unchanged, len(report.empty), len(report.failed)
    )
    dry_run = " (dry run: nothing written)" if report.dry_run else ""
    click.echo(f"in all: {found}; {_count(report.passages, 'passage')}{dry_run}")


# How the report names what was left out, by the importers' kind (one, several); the API
# keeps the short kinds, and the web app names them the same way (lib/importJob.ts).
LEFT_OUT_WORDS = {
    "plumbing": ("hidden tool or system message", "hidden tool and system messages"),
    "reasoning": ("reasoning step", "reasoning steps"),
    "images": ("image", "images"),
    "files": ("attached file", "attached files"),
    "audio": ("audio clip", "audio clips"),
}


def _count(n: int, one: str, several: str | None = None) -> str:
    """'1 passage', '18,230 passages': as the progress line and the web app write numbers."""
    return f"{n:,} {one if n == 1 else several or one + 's'}"


def _found(added: int, updated: int, unchanged: int, skipped: int, failed: int) -> str:
    """'3 added, 7 already imported, 1 skipped': the counts there are, as the import dialog
    words them (lib/importJob.ts). What knitter already had is not "skipped", which is for
    what had nothing to import (its line says why)."""
    counts = [
        ("updated", updated),
        ("already imported", unchanged),
        ("skipped", skipped),
        ("failed", failed),
    ]
    return ", ".join([f"{added:,} added", *(f"{n:,} {label}" for label, n in counts if n)])


def _item_line(item: ItemReport) -> str:
    parts = [_found(item.added, item.updated, item.unchanged, len(item.skips), item.failed)]
    if item.messages:  # "0 messages kept" says nothing "nothing imported" does not
        kept = _count(item.messages, "message") + " kept"
        if item.alternatives:
            kept += f" (and {_count(item.alternatives, 'other version')} of them)"
        parts.append(kept)
    if item.left_out:
        kinds = sorted(item.left_out.items(), key=lambda kv: (-kv[1], kv[0]))
        # An unknown kind as it is.
        named = (_count(n, *LEFT_OUT_WORDS.get(kind, (kind, kind))) for kind, n in kinds)
        parts.append("left out: " + ", ".join(named))
    if item.side_files:
        parts.append(f"ignored: {_count(item.side_files, 'side file')}")
    formats = " + ".join(item.formats) or "nothing imported"
    return f"{formats}; " + "; ".join(parts)


def _embed_pending(conn: Connection, ws: UUID, key_for: KeyFor) -> None:
    """Both stages as they advance: every passage gets its fast static vector first
    (searchable by meaning within seconds), then the model's own."""
    if not pending_count(conn, ws):
        return

    # A terminal shows one line redrawn in place; a log or a pipe gets each new line.
    interactive = sys.stderr.isatty()
    shown = ""

    def show(_: int) -> None:
        nonlocal shown
        line = stages(conn, ws).line()
        if interactive:
            click.echo(f"\r{line}", nl=False, err=True)
        elif line != shown:
            click.echo(line, err=True)
        shown = line

    try:
        show(0)
        try:
            drain(conn, ws, on_progress=show, key_for=key_for)
        finally:
            if interactive:
                click.echo(err=True)
    except KnitterError as exc:
        click.echo(
            f"warning: passages stored but not embedded ({exc}); keyword search works now",
            err=True,
        )


def _terminal_snippet(snippet: str) -> str:
    text = MARK.sub(lambda m: click.style(m[1], bold=True, underline=True), snippet)
    return html.unescape(" ".join(text.split()))
