/** Reads and small writes through Supabase RPC functions (supabase.rpc), as the design says. */
import { supabase } from "./supabase";

export interface SourceRow {
  id: string;
  workspace_id: string;
  kind: string;
  platform: string;
  title: string;
  url: string | null;
  started_at: string | null;
  imported_at: string;
  passages: number;
}

export interface PassageRow {
  chunk_id: number;
  message_index: number;
  chunk_index: number;
  role: string;
  author: string | null;
  model: string | null;
  created_at: string | null;
  content: string;
  metadata: Record<string, unknown> | null;
}

export interface WorkspaceRow {
  id: string;
  name: string;
  is_personal: boolean;
  role: "owner" | "editor" | "viewer";
  embedding_model_id: number | null;
  created_at: string;
}

export interface EmbeddingModelRow {
  id: number;
  provider: string;
  name: string;
  dims: number;
  is_default: boolean;
}

export interface SourceDetailsRow {
  summary: string | null;
  key_topics: string[];
  summary_model: string | null;
  summarized_at: string | null;
  thread_id: string | null;
  thread_title: string | null;
}

export interface TopicThreadRow {
  id: string;
  workspace_id: string;
  title: string;
  /** "pending" until knitter titles it, "terms"/"llm" when it did, "user" when renamed. */
  title_source: "pending" | "terms" | "llm" | "user";
  conversations: number;
  passages: number;
  platforms: string[];
  first_activity: string | null;
  last_activity: string | null;
  summary: string | null;
  key_topics: string[];
  summary_model: string | null;
  summarized_at: string | null;
}

export interface TopicThreadSettingsRow {
  /** Cosine similarity a conversation needs to join a thread (0.05–0.95): higher, narrower. */
  similarity: number;
  /** Conversations in no thread yet (waiting for their embeddings). */
  unthreaded: number;
}

export interface ThreadSourceRow extends SourceRow {
  summary: string | null;
  key_topics: string[];
}

async function call<T>(fn: string, args?: Record<string, unknown>): Promise<T> {
  const { data, error } = await supabase().rpc(fn, args);
  if (error) throw new Error(error.message || `${fn} failed`);
  return data as T;
}

export const listSources = (workspaceId?: string, maxRows = 200, skipRows = 0) =>
  call<SourceRow[]>("list_sources", {
    workspace_id: workspaceId ?? null,
    max_rows: maxRows,
    skip_rows: skipRows,
  });

export const sourcePassages = (sourceId: string) =>
  call<PassageRow[]>("source_passages", { source_id: sourceId });

export const deleteSource = (sourceId: string) =>
  call<boolean>("delete_source", { source_id: sourceId });

export const listWorkspaces = () => call<WorkspaceRow[]>("list_workspaces");

export const listEmbeddingModels = () => call<EmbeddingModelRow[]>("list_embedding_models");

export const setWorkspaceModel = (workspaceId: string, modelId: number) =>
  call<boolean>("set_workspace_embedding_model", {
    workspace_id: workspaceId,
    model_id: modelId,
  });

/** One row or null: PostgREST returns set-returning functions as arrays. */
async function callOne<T>(fn: string, args: Record<string, unknown>): Promise<T | null> {
  const rows = await call<T[] | null>(fn, args);
  return rows?.[0] ?? null;
}

export const sourceDetails = (sourceId: string) =>
  callOne<SourceDetailsRow>("source_details", { source_id: sourceId });

export const listTopicThreads = (workspaceId: string | null) =>
  call<TopicThreadRow[]>("list_topic_threads", { workspace_id: workspaceId, thread_id: null });

export const topicThread = (threadId: string) =>
  callOne<TopicThreadRow>("list_topic_threads", { workspace_id: null, thread_id: threadId });

export const topicThreadSettings = (workspaceId: string) =>
  callOne<TopicThreadSettingsRow>("topic_thread_settings", { workspace_id: workspaceId });

export const topicThreadSources = (threadId: string) =>
  call<ThreadSourceRow[]>("topic_thread_sources", { thread_id: threadId });

/** Returns the surviving thread: the first of the ids. */
export const mergeTopicThreads = (threadIds: string[]) =>
  call<string>("merge_topic_threads", { thread_ids: threadIds });

/** Returns the new thread holding the conversations split off. */
export const splitTopicThread = (threadId: string, sourceIds: string[], title: string | null) =>
  call<string>("split_topic_thread", { thread_id: threadId, source_ids: sourceIds, title });

/** An empty title hands the thread back to automatic titles. */
export const renameTopicThread = (threadId: string, title: string) =>
  call<boolean>("rename_topic_thread", { thread_id: threadId, title });
