/** The Python API (POST /v1/imports, /v1/search, /v1/keys): what needs a secret or a model. */
import { appConfig } from "./config";
import { ApiError, errorMessage } from "./errors";
import type { ApiFilters } from "./filters";
import { accessToken } from "./supabase";

export interface ImportJob {
  id: string;
  workspace_id: string;
  status: "queued" | "running" | "succeeded" | "failed";
  items_total: number;
  items_done: number;
  added: number;
  updated: number;
  skipped: number;
  failed: number;
  passages: number;
  errors: { item: string; message: string }[];
  embedding_pending: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface SearchResult {
  chunk_id: number;
  source_id: string;
  workspace_id: string;
  source_title: string;
  platform: string;
  kind: string;
  url: string | null;
  role: string;
  author: string | null;
  created_at: string | null;
  message_index: number;
  chunk_index: number;
  content: string;
  snippet: string;
  score: number;
  keyword_rank: number | null;
  semantic_rank: number | null;
}

export interface SearchResponse {
  results: SearchResult[];
  semantic: boolean;
}

export type Provider = "openai" | "gemini";

export interface KeyInfo {
  provider: Provider;
  last_four: string;
  updated_at: string;
}

export interface KeyTest {
  ok: boolean;
  provider: Provider;
  model: string;
  message: string;
}

async function parse(response: Response): Promise<unknown> {
  const type = response.headers.get("content-type") ?? "";
  if (response.status === 204) return null;
  return type.includes("json") ? response.json() : response.text();
}

export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${await accessToken()}`);
  if (init.body && typeof init.body === "string") headers.set("Content-Type", "application/json");
  let response: Response;
  try {
    response = await fetch(`${appConfig().apiUrl}${path}`, { ...init, headers });
  } catch {
    throw new ApiError(errorMessage(null, 0), 0);
  }
  const body = await parse(response);
  if (!response.ok) throw new ApiError(errorMessage(body, response.status), response.status);
  return body as T;
}

export function searchPassages(
  query: string,
  filters: ApiFilters,
  options: { limit?: number; keywordOnly?: boolean; signal?: AbortSignal } = {},
): Promise<SearchResponse> {
  return apiFetch<SearchResponse>("/v1/search", {
    method: "POST",
    body: JSON.stringify({
      query,
      filters,
      limit: options.limit ?? 20,
      keyword_only: options.keywordOnly ?? false,
    }),
    signal: options.signal,
  });
}

export function importLinks(urls: string[], workspaceId?: string): Promise<ImportJob> {
  return apiFetch<ImportJob>("/v1/imports", {
    method: "POST",
    body: JSON.stringify(workspaceId ? { urls, workspace_id: workspaceId } : { urls }),
  });
}

/** Uploads one file with progress (XMLHttpRequest: fetch has no upload progress). */
export async function uploadFile(
  file: File,
  onProgress: (fraction: number) => void,
  workspaceId?: string,
): Promise<ImportJob> {
  const token = await accessToken();
  const form = new FormData();
  form.append("files", file, file.name);
  if (workspaceId) form.append("workspace_id", workspaceId);
  return new Promise<ImportJob>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${appConfig().apiUrl}/v1/imports`);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () => reject(new ApiError(errorMessage(null, 0), 0));
    xhr.onload = () => {
      let body: unknown = xhr.responseText;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* keep the text */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as ImportJob);
      else reject(new ApiError(errorMessage(body, xhr.status), xhr.status));
    };
    xhr.send(form);
  });
}

export function importJob(id: string): Promise<ImportJob> {
  return apiFetch<ImportJob>(`/v1/imports/${encodeURIComponent(id)}`);
}

export async function storedKey(provider: Provider): Promise<KeyInfo | null> {
  try {
    return await apiFetch<KeyInfo>(`/v1/keys/${provider}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export function storeKey(provider: Provider, key: string): Promise<KeyInfo> {
  return apiFetch<KeyInfo>(`/v1/keys/${provider}`, {
    method: "PUT",
    body: JSON.stringify({ key }),
  });
}

export function forgetKey(provider: Provider): Promise<null> {
  return apiFetch<null>(`/v1/keys/${provider}`, { method: "DELETE" });
}

export function testKey(provider: Provider): Promise<KeyTest> {
  return apiFetch<KeyTest>(`/v1/keys/${provider}/test`, { method: "POST" });
}
