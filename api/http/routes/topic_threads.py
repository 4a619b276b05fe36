"""Topic threads and summaries: regroup a workspace's conversations into threads, and
summarise a conversation or a thread. Listing, merging, splitting and renaming threads are
RPCs the web app calls on Supabase directly (topic_thread_rpcs migration)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.answers import summaries
from api.config import Settings
from api.db.session import Caller, Connection
from api.http.dependencies import CallerDep, DbDep, ServicesDep, rate_limit
from api.http.schemas import (
    ProviderChoice,
    RegroupBody,
    RegroupResponse,
    SummaryBody,
    SummaryResponse,
)
from api.http.services import Services
from api.providers.chat import ChatModel
from api.providers.choice import pick_chat_model
from api.topics import grouping


def router(settings: Settings) -> APIRouter:
    routes = APIRouter(
        prefix="/v1", tags=["threads"], dependencies=[rate_limit(settings.search_rate_limit)]
    )

    def chat_for(
        conn: Connection, svc: Services, caller: Caller, provider: ProviderChoice, name: str | None
    ) -> ChatModel | None:
        return pick_chat_model(conn, svc.keyring, settings, caller.user_id, provider, name)

    @routes.post(
        "/workspaces/{workspace_id}/threads/regroup",
        response_model=RegroupResponse,
        summary="Regroup a workspace's conversations into topic threads",
    )
    def regroup(
        workspace_id: UUID,
        body: RegroupBody,
        caller: CallerDep,
        conn: DbDep,
        svc: ServicesDep,
    ) -> RegroupResponse:
        """Clusters the workspace's embedded conversations afresh (average linkage over
        their centroids, cut at the similarity threshold) and titles the new threads (a
        chat model the 20 largest, when a key is available; the others by their terms).
        Replaces the current threads: hand-made merges, splits and titles are lost."""
        done = grouping.regroup(conn, caller, workspace_id, body.similarity)
        chat = chat_for(conn, svc, caller, body.provider, None)
        grouping.retitle(conn, caller, workspace_id, chat)
        return RegroupResponse.model_validate(done, from_attributes=True)

    @routes.post(
        "/sources/{source_id}/summary",
        response_model=SummaryResponse,
        summary="Summarise a conversation",
    )
    def summarize_source(
        source_id: UUID,
        body: SummaryBody,
        caller: CallerDep,
        conn: DbDep,
        svc: ServicesDep,
    ) -> SummaryResponse:
        """Writes and stores the conversation's summary and key topics, replacing any
        earlier one: by the caller's (or the server's) chat model, else extracted."""
        chat = chat_for(conn, svc, caller, body.provider, body.model)
        done = summaries.summarize_source(conn, caller, source_id, chat)
        return SummaryResponse.model_validate(done, from_attributes=True)

    @routes.post(
        "/threads/{thread_id}/summary",
        response_model=SummaryResponse,
        summary="Summarise a topic thread",
    )
    def summarize_thread(
        thread_id: UUID,
        body: SummaryBody,
        caller: CallerDep,
        conn: DbDep,
        svc: ServicesDep,
    ) -> SummaryResponse:
        """Writes and stores the thread's summary and key topics from its conversations,
        and titles the thread afresh unless its title was set by hand."""
        chat = chat_for(conn, svc, caller, body.provider, body.model)
        done = summaries.summarize_topic_thread(conn, caller, thread_id, chat)
        return SummaryResponse.model_validate(done, from_attributes=True)

    return routes
