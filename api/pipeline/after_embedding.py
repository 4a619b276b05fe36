"""The step after embedding, the same on every path that embeds (`knitter import`, the
API's import jobs, the embedding worker, POST /v1/queue/drain): conversations whose
passages are now all embedded join topic threads, and threads waiting for a title get
one, by the server's chat model when it has a key, else by their distinctive terms."""

from __future__ import annotations

import logging
from uuid import UUID

from api.config import Settings
from api.db.session import Caller, Connection
from api.providers.choice import server_chat_model
from api.topics import grouping

log = logging.getLogger("knitter.after_embedding")


def place_in_topic_threads(
    conn: Connection, settings: Settings, caller: Caller, workspace_id: UUID
) -> int:
    """Places the workspace's newly embedded conversations into topic threads and titles
    the threads waiting for one, as the caller. Returns how many conversations it placed."""
    placed = grouping.assign_new(conn, caller, workspace_id)
    grouping.retitle(conn, caller, workspace_id, server_chat_model(settings))
    return placed


def place_all_in_topic_threads(conn: Connection, settings: Settings) -> int:
    """place_in_topic_threads for every workspace with something waiting, as the service role
    (the worker and the drain endpoint act for no single user)."""
    placed = 0
    for workspace_id in grouping.workspaces_waiting(conn):
        try:
            placed += place_in_topic_threads(conn, settings, Caller.service(), workspace_id)
        except Exception:  # one workspace's failure must not hold up the others
            log.exception("topic threads of workspace %s failed", workspace_id)
    return placed
