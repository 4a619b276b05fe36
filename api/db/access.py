"""The access model: who may do what to every table and RPC that Supabase exposes.

`TABLES` and `RPCS` state it by hand; `render` adds what the catalog says (grants, column
grants, policies, execute privileges) and makes docs/ACCESS.md (`scripts/access_doc.py`).
tests/test_access_matrix.py runs every operation as every caller and checks the outcome
against `TABLES`; tests/test_access_doc.py checks the document against the catalog, so a
new table or function fails both until it is described here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.db.session import Connection

# Who calls. The target rows belong to the owner of a team workspace in which viewer,
# editor and owner are members; non-member and guest (an anonymous sign-in) are signed in
# but not members; api is the API's writer role (knitter_api) acting for the editor.
CALLERS = ("anonymous", "guest", "non-member", "viewer", "editor", "owner", "api", "service")
ROLES = ("anon", "authenticated", "knitter_api", "service_role")
MEMBERS = ("viewer", "editor", "owner", "api", "service")
EDITORS = ("editor", "owner", "api", "service")
SERVICE = ("service",)


@dataclass(frozen=True)
class Operation:
    """An operation on the owner's row (or a new row in the team workspace)."""

    name: str
    allowed: tuple[str, ...]
    rule: str


@dataclass(frozen=True)
class Table:
    name: str
    purpose: str
    operations: tuple[Operation, ...]


def op(name: str, allowed: tuple[str, ...], rule: str) -> Operation:
    return Operation(name, allowed, rule)


TABLES: tuple[Table, ...] = (
    Table(
        "embedding_models",
        "the catalogue of embedding models",
        (
            op("select", (*MEMBERS, "guest", "non-member"), "anyone signed in"),
            op("insert", SERVICE, "registered by the API (service role)"),
            op("update", SERVICE, "service role only"),
            op("delete", SERVICE, "service role only"),
        ),
    ),
    Table(
        "workspaces",
        "workspaces; a personal one per user, made by the sign-up trigger",
        (
            op("select", MEMBERS, "members"),
            op("insert", SERVICE, "through create_workspace()"),
            op("update(name)", ("owner", "service"), "owners (also rename_workspace())"),
            op("update(is_personal)", SERVICE, "never by the API roles"),
            op("update(owner_id)", SERVICE, "follows the owner role (member RPCs)"),
            op("delete", ("owner", "service"), "owners, team workspaces only"),
            op("delete personal", SERVICE, "a personal workspace goes with its user"),
        ),
    ),
    Table(
        "workspace_members",
        "who belongs to a workspace, with a role",
        (
            op("select", MEMBERS, "members see the member list"),
            op("insert", SERVICE, "only by accepting an invitation (accept_invitation())"),
            op("update", SERVICE, "through set_member_role()"),
            op("delete", SERVICE, "through remove_workspace_member(), leave_workspace()"),
        ),
    ),
    Table(
        "workspace_invitations",
        "invitations to a workspace, open until the invitee accepts or declines",
        (
            op(
                "select",
                ("non-member", "owner", "service"),
                "the invitee by user id and the owners",
            ),
            op("insert", SERVICE, "through invite_to_workspace()"),
            op(
                "update",
                SERVICE,
                "through issue_invitation_link(), accept/decline/revoke_invitation()",
            ),
            op("delete", SERVICE, "service role only"),
        ),
    ),
    Table(
        "sources",
        "imported conversations and documents",
        (
            op("select", MEMBERS, "members"),
            op("insert", ("api", "service"), "the API's importers, for editors"),
            op("update(title)", ("api", "service"), "the API (summaries), for editors"),
            op("update(thread_id)", EDITORS, "editors (topic thread RPCs)"),
            op("delete", EDITORS, "editors (also delete_source())"),
        ),
    ),
    Table(
        "chunks",
        "passages of sources",
        (
            op("select", MEMBERS, "members"),
            op("insert", ("api", "service"), "the API's importers, within the upload limits"),
            op("update", ("api", "service"), "the API, for editors"),
            op("delete", ("api", "service"), "the API; editors delete whole sources"),
        ),
    ),
    Table(
        "chunk_embeddings",
        "one vector per passage and model",
        (
            op("select", MEMBERS, "members"),
            op("insert", SERVICE, "the embedding worker"),
            op("update", SERVICE, "the embedding worker"),
            op("delete", SERVICE, "the embedding worker"),
        ),
    ),
    Table(
        "embedding_queue",
        "passages waiting for an embedding (filled by trigger)",
        (
            op("select", MEMBERS, "members (embedding progress)"),
            op("insert", SERVICE, "the chunks trigger"),
            op("update", SERVICE, "the embedding worker"),
            op("delete", SERVICE, "the embedding worker"),
        ),
    ),
    Table(
        "api_keys",
        "users' own provider keys, encrypted",
        (
            op("select", ("owner", "service"), "the key's user; never ciphertext or nonce"),
            op("select(ciphertext)", SERVICE, "the API (service role) decrypts"),
            op("insert", SERVICE, "the API encrypts and stores"),
            op("update", SERVICE, "the API (key rotation)"),
            op("delete", ("owner", "service"), "the key's user"),
        ),
    ),
    Table(
        "access_tokens",
        "personal access tokens for agents (MCP), stored as their SHA-256 hash",
        (
            op("select", ("owner", "service"), "the token's user; never token_hash"),
            op("select(token_hash)", SERVICE, "the API resolves a token (resolve_access_token)"),
            op("insert", SERVICE, "through create_access_token() (plaintext shown once)"),
            op("update", SERVICE, "through revoke_access_token(); last use by the API"),
            op("delete", SERVICE, "with the user's account"),
        ),
    ),
    Table(
        "import_jobs",
        "imports submitted to the API",
        (
            op("select", ("owner", "service"), "the job's user"),
            op("insert", ("api", "service"), "the API, for editors of the workspace"),
            op("update(status)", SERVICE, "the API, for the job's user only"),
            op("delete", SERVICE, "service role only"),
        ),
    ),
    Table(
        "search_history",
        "each user's past queries",
        (
            op("select", ("owner", "service"), "the user"),
            op("insert", MEMBERS, "the user, against a workspace they read"),
            op("update", SERVICE, "service role only"),
            op("delete", ("owner", "service"), "the user (also clear_search_history())"),
        ),
    ),
    Table(
        "micro_threads",
        "questions about one passage and their answers",
        (
            op("select", MEMBERS, "members"),
            op("insert", ("api", "service"), "the API writes the model's answer"),
            op("update", SERVICE, "nobody edits an answer"),
            op("delete", ("owner", "service"), "the asker"),
        ),
    ),
    Table(
        "topic_threads",
        "a workspace's conversations grouped by topic",
        (
            op("select", MEMBERS, "members"),
            op("insert", EDITORS, "editors (grouping, split_topic_thread())"),
            op("update(title)", EDITORS, "editors (rename_topic_thread())"),
            op("update(summary)", ("api", "service"), "the API writes summaries"),
            op("delete", EDITORS, "editors (regrouping)"),
        ),
    ),
)

SIGNED_IN = ("authenticated", "service_role")

# Every RPC in public: who may execute it, and the rule it applies itself.
RPCS: dict[str, tuple[tuple[str, ...], str]] = {
    "hybrid_search": (
        SIGNED_IN,
        "RLS: the passages the caller can read (a user's keyword matches are ranked by"
        " private.keyword_matches, as owner, over the workspaces the chunks policy shows"
        " them; the rows returned are read under RLS)",
    ),
    "list_sources": (SIGNED_IN, "RLS"),
    "source_passages": (SIGNED_IN, "RLS"),
    "source_alternatives": (SIGNED_IN, "RLS"),
    "delete_source": (SIGNED_IN, "RLS: editors"),
    "list_workspaces": (SIGNED_IN, "the caller's memberships"),
    "list_embedding_models": (SIGNED_IN, "anyone signed in"),
    "create_access_token": (SIGNED_IN, "the caller's own token; not guests; at most 50 active"),
    "list_access_tokens": (SIGNED_IN, "the caller's own tokens, never their hash"),
    "revoke_access_token": (SIGNED_IN, "the caller's own token"),
    "resolve_access_token": (("service_role",), "the API checks a bearer token"),
    "set_workspace_embedding_model": (
        SIGNED_IN,
        "editors and owners (checked inside); re-embeds before search switches",
    ),
    "workspace_embedding_status": (
        SIGNED_IN,
        "members: the model search uses and a switch's progress",
    ),
    "clear_search_history": (SIGNED_IN, "the caller's own history"),
    "search_suggestions": (SIGNED_IN, "RLS: own queries, readable titles"),
    "list_topic_threads": (SIGNED_IN, "RLS"),
    "topic_thread_sources": (SIGNED_IN, "RLS"),
    "merge_topic_threads": (SIGNED_IN, "editors"),
    "split_topic_thread": (SIGNED_IN, "editors"),
    "rename_topic_thread": (SIGNED_IN, "editors"),
    "topic_thread_settings": (SIGNED_IN, "RLS"),
    "set_thread_similarity": (SIGNED_IN, "editors (checked inside)"),
    "source_details": (SIGNED_IN, "RLS"),
    "create_workspace": (SIGNED_IN, "signed-in users, not guests; the caller owns it"),
    "rename_workspace": (SIGNED_IN, "owners"),
    "invite_to_workspace": (SIGNED_IN, "owners of team workspaces, not guests"),
    "list_my_invitations": (SIGNED_IN, "invitations by user id addressed to the caller"),
    "issue_invitation_link": (SIGNED_IN, "owners; email invitations; the token shown once"),
    "accept_invitation": (
        SIGNED_IN,
        "not guests: the invitee by user id, or the holder of an email invitation's link",
    ),
    "decline_invitation": (SIGNED_IN, "as accept_invitation"),
    "revoke_invitation": (SIGNED_IN, "owners"),
    "list_workspace_invitations": (SIGNED_IN, "owners"),
    "list_workspace_members": (SIGNED_IN, "members"),
    "set_member_role": (SIGNED_IN, "owners; never demotes the last owner"),
    "remove_workspace_member": (SIGNED_IN, "owners; never the last owner"),
    "leave_workspace": (SIGNED_IN, "members; the last owner hands over first"),
}

PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def catalog_tables(conn: Connection) -> list[str]:
    rows = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')"
        " order by c.relname"
    ).fetchall()
    return [r["relname"] for r in rows]


def catalog_functions(conn: Connection) -> list[str]:
    rows = conn.execute(
        "select distinct p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
        " left join pg_depend d on d.objid = p.oid and d.deptype = 'e'"
        " where n.nspname = 'public' and d.objid is null order by p.proname"
    ).fetchall()
    return [r["proname"] for r in rows]


def table_grants(conn: Connection, table: str) -> dict[str, list[str]]:
    """Each API role's own grants on the table; column grants as PRIVILEGE(col, ...)."""
    rows = conn.execute(
        """
        select r.rolname, a.privilege_type as privilege
        from pg_class c
        cross join lateral aclexplode(c.relacl) a
        join pg_roles r on r.oid = a.grantee
        where c.oid = ('public.' || quote_ident(%(t)s))::regclass and r.rolname = any(%(roles)s)
        """,
        {"t": table, "roles": list(ROLES)},
    ).fetchall()
    columns = conn.execute(
        """
        select r.rolname, a.privilege_type as privilege, att.attname
        from pg_attribute att
        cross join lateral aclexplode(att.attacl) a
        join pg_roles r on r.oid = a.grantee
        where att.attrelid = ('public.' || quote_ident(%(t)s))::regclass
          and att.attnum > 0 and not att.attisdropped and r.rolname = any(%(roles)s)
        order by att.attnum
        """,
        {"t": table, "roles": list(ROLES)},
    ).fetchall()
    grants: dict[str, list[str]] = {role: [] for role in ROLES}
    whole = {(r["rolname"], r["privilege"]) for r in rows}
    for role in ROLES:
        for privilege in PRIVILEGES:
            if (role, privilege) in whole:
                grants[role].append(privilege)
            else:
                cols = [
                    c["attname"]
                    for c in columns
                    if c["rolname"] == role and c["privilege"] == privilege
                ]
                if cols:
                    grants[role].append(f"{privilege}({', '.join(cols)})")
    return grants


def table_policies(conn: Connection, table: str) -> list[dict[str, Any]]:
    return conn.execute(
        "select policyname, cmd, roles::text[] as roles, qual, with_check from pg_policies"
        " where schemaname = 'public' and tablename = %s order by cmd, policyname",
        [table],
    ).fetchall()


def function_facts(conn: Connection, name: str) -> list[dict[str, Any]]:
    return conn.execute(
        """
        select pg_get_function_identity_arguments(p.oid) as args, p.prosecdef as definer,
               coalesce(obj_description(p.oid, 'pg_proc'), '') as comment,
               array(select r.rolname from pg_roles r
                     where r.rolname = any(%(roles)s)
                       and exists (
                         select from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                         where a.grantee in (r.oid, 0) and a.privilege_type = 'EXECUTE')
                     order by r.rolname) as execute
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.proname = %(name)s
        order by 1
        """,
        {"name": name, "roles": list(ROLES)},
    ).fetchall()


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def render(conn: Connection) -> str:
    """docs/ACCESS.md: the stated model with the catalog's grants and policies."""
    lines = [
        "# Access model",
        "",
        "<!-- Generated by scripts/access_doc.py from api/db/access.py and the database",
        "     catalog; tests/test_access_doc.py fails when it is out of date. -->",
        "",
        "On Supabase, PostgREST serves every table of `public` at `/rest/v1/<table>` and every",
        "function at `/rest/v1/rpc/<name>`, as `anon` (no sign-in) or `authenticated` (a user's",
        "JWT, guests included), with the JWT's claims. So the database alone decides. Row-level",
        "security is on for every table. `knitter_api` is the API's writer role: a member of",
        "`authenticated` (its policies apply, as the user) that PostgREST never switches into;",
        "the API uses it for writes only it can validate (passages within the upload limits,",
        "job states, model answers, summaries). `service_role` bypasses RLS and is used by the",
        "API for work done for no single user (embedding, sealed keys). No API role holds",
        "TRUNCATE, TRIGGER or REFERENCES on any table. Authorship columns (`created_by`,",
        "`user_id`) are set from `auth.uid()` by triggers, whatever a client sends.",
        "",
        "Callers in the tables below: the target row belongs to the owner of a team workspace",
        "in which viewer, editor and owner are members; *non-member* and *guest* (anonymous",
        "sign-in) are signed in but not members; *anonymous* is the `anon` key alone; *api* is",
        "`knitter_api` acting for the editor; *service* is `service_role`. Each cell is checked",
        "by tests/test_access_matrix.py. Nobody becomes a member without accepting an",
        "invitation, so nothing of a workspace reaches search, answers, threads or suggestions",
        "of a person who has not accepted.",
        "",
        "## Tables",
        "",
    ]
    for table in TABLES:
        lines += [f"### `{table.name}`", "", table.purpose + ".", ""]
        lines.append("| operation | " + " | ".join(CALLERS) + " | rule |")
        lines.append("| --- " * (len(CALLERS) + 2) + "|")
        for operation in table.operations:
            marks = ["yes" if c in operation.allowed else "no" for c in CALLERS]
            lines.append(f"| {operation.name} | " + " | ".join(marks) + f" | {operation.rule} |")
        lines += ["", "Grants (from the catalog):", ""]
        for role, privileges in table_grants(conn, table.name).items():
            lines.append(f"- `{role}`: {', '.join(privileges) or 'nothing'}")
        lines += ["", "Policies:", ""]
        for policy in table_policies(conn, table.name):
            roles = ", ".join(policy["roles"])
            condition = " ".join(
                part
                for part in (
                    f"using `{_cell(policy['qual'])}`" if policy["qual"] else "",
                    f"check `{_cell(policy['with_check'])}`" if policy["with_check"] else "",
                )
                if part
            )
            lines.append(f"- {policy['cmd']} to {roles} ({policy['policyname']}): {condition}")
        lines.append("")
    lines += [
        "## RPCs",
        "",
        "| function | execute | security | rule | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, (_, rule) in sorted(RPCS.items()):
        for fact in function_facts(conn, name):
            security = "definer" if fact["definer"] else "invoker"
            lines.append(
                f"| `{name}({_cell(fact['args'])})` | {', '.join(fact['execute']) or 'nobody'}"
                f" | {security} | {rule} | {_cell(fact['comment'])} |"
            )
    lines.append("")
    return "\n".join(lines)
