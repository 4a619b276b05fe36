"""The API's connection pool: a connection the server dropped while it sat idle is never
lent, and each new connection runs a search (as nobody, then as the service role, rolled
back) before its first caller's, on a database with or without the schema."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest

from api.db.migrate import migrate
from api.db.session import Connection, connect
from api.http.services import check_if_told, connection_pool
from tests.test_api import make_settings


def backend_pid(conn: Connection) -> int:
    row = conn.execute("select pg_backend_pid() as pid").fetchone()
    assert row is not None
    return int(row["pid"])


def gone(conn: Connection, pid: int) -> None:
    """Waits until the server has ended the backend (its goodbye is on the idle socket)."""
    for _ in range(100):
        if conn.execute("select from pg_stat_activity where pid = %s", [pid]).fetchone() is None:
            return
        time.sleep(0.05)
    raise AssertionError(f"backend {pid} still there")


def test_a_connection_the_server_dropped_is_replaced_not_lent(
    db_url: str, conn: Connection
) -> None:
    with connect(db_url) as dropped:
        dropped.autocommit = True
        check_if_told(dropped)  # healthy: passes
        conn.execute("select pg_terminate_backend(%s)", [backend_pid(dropped)])
        gone(conn, dropped.info.backend_pid)
        with pytest.raises(psycopg.OperationalError):
            check_if_told(dropped)

    pool = connection_pool(db_url, make_settings(db_url, db_pool_min=1, db_pool_max=1), "test")
    pool.open(wait=True)
    try:
        with pool.connection() as lent:
            first = backend_pid(lent)
        conn.execute("select pg_terminate_backend(%s)", [first])
        gone(conn, first)
        with pool.connection() as lent:
            assert backend_pid(lent) != first  # a new connection, and no error
    finally:
        pool.close()


def test_each_new_connection_searches_before_it_is_lent_and_keeps_nothing(
    new_database: Callable[[], str],
) -> None:
    url = new_database()
    with connect(url) as admin:
        admin.autocommit = True
        migrate(admin)
        admin.execute(f"alter database {admin.info.dbname} set track_functions = 'pl'")
    pool = connection_pool(url, make_settings(url, db_pool_min=2, db_pool_max=2), "test")
    pool.open(wait=True)
    with pool.connection() as lent:
        assert lent.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        row = lent.execute("select current_user as role").fetchone()
        assert row is not None and row["role"] != "authenticated"  # rolled back, role too
    pool.close()  # the backends exit, and report what they ran
    with connect(url) as admin:
        calls = 0
        for _ in range(50):
            row = admin.execute(
                "select coalesce(sum(calls), 0) as n from pg_stat_user_functions"
                " where schemaname = 'public' and funcname = 'hybrid_search'"
            ).fetchone()
            calls = int(row["n"]) if row else 0
            if calls >= 4:
                break
            time.sleep(0.1)
        # Twice per connection: as nobody (the RLS paths), and as the service role for a
        # word no passage holds (nobody's search skips the branches' queries).
        assert calls == 4
        kept = admin.execute("select count(*) as n from public.search_history").fetchone()
        assert kept == {"n": 0}


def test_a_database_without_the_schema_still_gets_a_pool(
    new_database: Callable[[], str],
) -> None:
    url = new_database()  # not migrated: the warm-up finds no hybrid_search
    pool = connection_pool(url, make_settings(url, db_pool_min=1, db_pool_max=1), "test")
    pool.open(wait=True, timeout=10)
    try:
        with pool.connection() as lent:
            assert lent.execute("select 1 as one").fetchone() == {"one": 1}
    finally:
        pool.close()
