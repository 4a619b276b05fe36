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
