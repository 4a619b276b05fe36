"""Transactions as a caller, pipelined: what the search endpoint relies on."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from api.db.session import Caller, Connection, pipelined_as


def test_a_pipelined_transaction_runs_as_the_caller(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    caller = make_user()
    with pipelined_as(conn, caller):
        conn.execute("insert into public.search_history (user_id, query) values (auth.uid(), 'x')")
        row = conn.execute("select auth.uid() as uid, current_user as role").fetchone()
    assert row == {"uid": caller.user_id, "role": "authenticated"}
    kept = conn.execute(
        "select count(*) as n from public.search_history where user_id = %s", [caller.user_id]
    ).fetchone()
    assert kept == {"n": 1}


def test_a_failing_statement_nobody_reads_still_rolls_the_transaction_back(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    """In pipeline mode an error surfaces at the next read or at the commit, not at its
    execute: the whole transaction must still go."""
    caller = make_user()
    with pytest.raises(psycopg.errors.DivisionByZero), pipelined_as(conn, caller):
        conn.execute("insert into public.search_history (user_id, query) values (auth.uid(), 'a')")
        conn.execute("select 1 / 0")  # nothing reads this result
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    written = conn.execute(
        "select count(*) as n from public.search_history where user_id = %s", [caller.user_id]
    ).fetchone()
    assert written == {"n": 0}
