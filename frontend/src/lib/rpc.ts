/** Reads and small writes through Supabase RPC functions (supabase.rpc), as the design says. */
import type { Database } from "./database.types";
import { supabase } from "./supabase";

type Functions = Database["public"]["Functions"];
export type RpcName = keyof Functions;
export type RpcArgs<F extends RpcName> = Functions[F]["Args"];
export type RpcReturns<F extends RpcName> = Functions[F]["Returns"];
/** One row of a set-returning function (PostgREST returns those as arrays). */
export type RpcRow<F extends RpcName> = RpcReturns<F> extends readonly (infer Row)[] ? Row : never;

/** PostgreSQL records no nullability for the columns of `returns table (...)`, so the
 * generated rows type each one as nullable; these name the columns the query never leaves
 * null (a renamed column fails the type check here). */
export type Present<Row, K extends keyof Row> = {
  [P in keyof Row]: P extends K ? NonNullable<Row[P]> : Row[P];
};

type SourceColumns = "id" | "workspace_id" | "kind" | "platform" | "title" | "imported_at" | "passages";
export type SourceRow = Present<RpcRow<"list_sources">, SourceColumns>;
export type PassageRow = Present<
  RpcRow<"source_passages">,
  "chunk_id" | "message_index" | "chunk_index" | "role" | "content"
>;
export type WorkspaceRow = Present<
  RpcRow<"list_workspaces">,
  "id" | "name" | "is_personal" | "role" | "created_at"
>;
export type SourceDetailsRow = Present<RpcRow<"source_details">, "key_topics">;
/** title_source: "pending" until knitter titles it, "terms"/"llm" when it did, "user" when renamed. */
export type TopicThreadRow = Present<
  RpcRow<"list_topic_threads">,
  | "id"
  | "workspace_id"
  | "title"
  | "title_source"
  | "conversations"
  | "passages"
  | "platforms"
  | "key_topics"
>;
/** similarity: what a conversation needs to join a thread (0.05–0.95), higher is narrower;
 * unthreaded: conversations in no thread yet (waiting for their embeddings). */
export type TopicThreadSettingsRow = Present<RpcRow<"topic_thread_settings">, "similarity" | "unthreaded">;
export type ThreadSourceRow = Present<RpcRow<"topic_thread_sources">, SourceColumns | "key_topics">;

/** Calls an RPC with the arguments its signature takes; T narrows the result (see Present). */
export async function call<F extends RpcName, T = RpcReturns<F>>(fn: F, args?: RpcArgs<F>): Promise<T> {
  const { data, error } = await supabase().rpc(fn, args);
  if (error) throw new Error(error.message || `${fn} failed`);
  return data as T;
}

export const listSources = (workspaceId?: string, maxRows = 200, skipRows = 0, projectId?: string) =>
  call<"list_sources", SourceRow[]>("list_sources", {
    workspace_id: workspaceId ?? null,
    max_rows: maxRows,
    skip_rows: skipRows,
    project_id: projectId ?? null,
  });

export const sourcePassages = (sourceId: string) =>
  call<"source_passages", PassageRow[]>("source_passages", { source_id: sourceId });

/** Other versions of the conversation's messages (edits, regenerations), same row shape. */
export const sourceAlternatives = (sourceId: string) =>
  call<"source_alternatives", PassageRow[]>("source_alternatives", { source_id: sourceId });

export const deleteSource = (sourceId: string) =>
  call("delete_source", { source_id: sourceId });

export const listWorkspaces = () => call<"list_workspaces", WorkspaceRow[]>("list_workspaces");

/** One row or null: PostgREST returns set-returning functions as arrays. */
async function callOne<F extends RpcName, T>(fn: F, args: RpcArgs<F>): Promise<T | null> {
  const rows = await call<F, T[] | null>(fn, args);
  return rows?.[0] ?? null;
}

export const sourceDetails = (sourceId: string) =>
  callOne<"source_details", SourceDetailsRow>("source_details", { source_id: sourceId });

export const listTopicThreads = (workspaceId: string | null) =>
  call<"list_topic_threads", TopicThreadRow[]>("list_topic_threads", { workspace_id: workspaceId, thread_id: null });

export const topicThread = (threadId: string) =>
  callOne<"list_topic_threads", TopicThreadRow>("list_topic_threads", { workspace_id: null, thread_id: threadId });

export const topicThreadSettings = (workspaceId: string) =>
  callOne<"topic_thread_settings", TopicThreadSettingsRow>("topic_thread_settings", { workspace_id: workspaceId });

export const topicThreadSources = (threadId: string) =>
  call<"topic_thread_sources", ThreadSourceRow[]>("topic_thread_sources", { thread_id: threadId });

/** Returns the surviving thread: the first of the ids. */
export const mergeTopicThreads = (threadIds: string[]) =>
  call("merge_topic_threads", { thread_ids: threadIds });

/** Returns the new thread holding the conversations split off. */
export const splitTopicThread = (threadId: string, sourceIds: string[], title: string | null) =>
  call("split_topic_thread", { thread_id: threadId, source_ids: sourceIds, title });

/** An empty title hands the thread back to automatic titles. */
export const renameTopicThread = (threadId: string, title: string) =>
  call("rename_topic_thread", { thread_id: threadId, title });
