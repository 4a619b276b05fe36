"""PostgREST's RPC: find `public.<fn>` by the names of the arguments given (as its schema
cache does), call it with named arguments as the caller, and return its result as JSON.

Arguments from a JSON body go through `json_to_record` with the function's own argument
types, as PostgREST does, so JSON objects, arrays and numbers land in jsonb, array, vector
and numeric parameters unchanged. Query-string arguments (GET) are text cast to the type,
so `filters={"platform":"notes"}` is parsed by jsonb's own input function."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from api.db.session import Connection
from api.gateway.errors import PostgrestError

SCHEMA = "public"
INPUT_MODES = {"i", "b", "v"}  # in, inout, variadic

FUNCTIONS = """
select p.oid::int as oid,
       p.proretset as returns_set,
       p.provolatile as volatility,
       p.pronargdefaults as defaults,
       p.prorettype = 'void'::regtype as returns_void,
       coalesce(p.proargnames, '{}') as names,
       coalesce(p.proargmodes::text[], '{}') as modes,
       array(select format_type(t.oid, null)
               from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]))
                    with ordinality as t(oid, n)
              order by t.n) as types
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = %s and p.proname = %s and p.prokind = 'f'
"""


@dataclass(frozen=True)
class Argument:
    name: str
    type: str
    variadic: bool


@dataclass(frozen=True)
class Function:
    name: str
    arguments: tuple[Argument, ...]
    required: frozenset[str]
    returns_set: bool
    returns_void: bool
    volatility: str

    @property
    def read_only(self) -> bool:
        return self.volatility in {"s", "i"}

    def signature(self) -> str:
        return f"{SCHEMA}.{self.name}({', '.join(a.name for a in self.arguments)})"

    def accepts(self, names: frozenset[str]) -> bool:
        known = {a.name for a in self.arguments}
        return all(known) and names <= known and self.required <= names


def _function(name: str, row: Mapping[str, Any]) -> Function:
    modes: list[str] = row["modes"]
    names: list[str] = row["names"]
    arguments = []
    for i, type_name in enumerate(row["types"]):
        mode = modes[i] if modes else "i"
        if mode in INPUT_MODES:
            arguments.append(Argument(names[i] if i < len(names) else "", type_name, mode == "v"))
    required = frozenset(a.name for a in arguments[: len(arguments) - row["defaults"]])
    return Function(
        name,
        tuple(arguments),
        required,
        row["returns_set"],
        row["returns_void"],
        row["volatility"],
    )


def find_function(conn: Connection, name: str, given: Iterable[str]) -> Function:
    """The one function of that name whose parameters fit the given argument names."""
    names = frozenset(given)
    found = [_function(name, r) for r in conn.execute(FUNCTIONS, [SCHEMA, name]).fetchall()]
    fitting = [f for f in found if f.accepts(names)]
    if len(fitting) == 1:
        return fitting[0]
    listed = ", ".join(sorted(names))
    if not fitting:
        params = f"with parameters {listed}" if names else "without parameters"
        raise PostgrestError(
            404,
            "PGRST202",
            f"Could not find the function {SCHEMA}.{name}"
            + (f"({listed})" if names else " without parameters")
            + " in the schema cache",
            f"Searched for the function {SCHEMA}.{name} {params} or with a single unnamed "
            "json/jsonb parameter, but no matches were found in the schema cache.",
            f"Perhaps you meant to call the function {found[0].signature()}" if found else None,
        )
    raise PostgrestError(
        300,
        "PGRST203",
        f"Could not choose the best candidate function between: "
        f"{', '.join(f.signature() for f in fitting)}",
        None,
        "Try renaming the parameters or the function itself in the database so function "
        "overloading can be resolved",
    )


def call(
    conn: Connection,
    function: Function,
    arguments: Mapping[str, Any],
    *,
    as_text: bool,
    limit: int | None = None,
    offset: int = 0,
) -> str | None:
    """Runs the function on `conn` (already inside the caller's transaction) and returns its
    result as JSON text: an array for set-returning functions, the value (object, scalar or
    null) for the others, None for void functions. With `as_text` (GET) each argument is
    text cast to its type; otherwise the JSON values go through json_to_record."""
    given = [a for a in function.arguments if a.name in arguments]
    params: list[Any] = []
    items: list[sql.Composable] = []
    named: list[sql.Composable] = []
    for a in given:
        # The type is format_type's spelling from the catalog, quoted where it must be.
        value = (
            sql.SQL("%s::{}").format(sql.SQL(a.type))
            if as_text
            else sql.SQL("_.{}").format(sql.Identifier(a.name))
        )
        named.append(
            sql.SQL("{}{} => {}").format(
                sql.SQL("variadic " if a.variadic else ""), sql.Identifier(a.name), value
            )
        )
    if as_text:
        params.extend(str(arguments[a.name]) for a in given)
    elif given:
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(a.name), sql.SQL(a.type)) for a in given
        )
        items.append(sql.SQL("json_to_record(%s::json) as _({})").format(columns))
        params.append(json.dumps({a.name: arguments[a.name] for a in given}))
    invocation = sql.SQL("{}.{}({})").format(
        sql.Identifier(SCHEMA), sql.Identifier(function.name), sql.SQL(", ").join(named)
    )

    if function.returns_void:
        source = sql.SQL(" from {}").format(items[0]) if items else sql.SQL("")
        conn.execute(sql.SQL("select {}{}").format(invocation, source), params)
        return None
    items.append(sql.SQL("lateral {} as r").format(invocation))
    from_items = sql.SQL(", ").join(items)
    if function.returns_set:
        query = sql.SQL(
            "select coalesce(json_agg(s.r), '[]'::json)::text as result"
            " from (select r from {} limit %s offset %s) as s"
        ).format(from_items)
        params.extend([limit, offset])
    else:
        query = sql.SQL("select to_json(r)::text as result from {}").format(from_items)
    row = conn.execute(query, params).fetchone()
    result = row["result"] if row is not None else None
    return "null" if result is None else str(result)
