/** The Python API (imports, search, answers, summaries, keys): what needs a secret or a model. */
import { appConfig } from "./config";
import { ApiError, errorMessage } from "./errors";
import type { ApiFilters } from "./filters";
import { readSse } from "./sse";
import { accessToken } from "./supabase";

export interface ImportJob {
  id: string;
  workspace_id: string;
  status: "queued" | "running" | "succeeded" | "failed" | "interrupted";
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

/** The successful response, unread (streams need it so); an error status becomes an ApiError. */
async function apiResponse(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${await accessToken()}`);
  if (init.body && typeof init.body === "string") headers.set("Content-Type", "application/json");
  let response: Response;
  try {
    response = await fetch(`${appConfig().apiUrl}${path}`, { ...init, headers });
  } catch (error) {
    if (init.signal?.aborted) throw error; // the caller gave up: not a network failure
    throw new ApiError(errorMessage(null, 0), 0);
  }
  if (!response.ok) {
    throw new ApiError(errorMessage(await parse(response), response.status), response.status);
  }
  return response;
}

export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await parse(await apiResponse(path, init))) as T;
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

// --- answers --------------------------------------------------------------------------

/** A numbered passage an answer may cite as "[n]". */
export interface Citation {
  n: number;
  chunk_id: number;
  source_id: string;
  source_title: string;
  platform: string;
  url: string | null;
  role: string;
  created_at: string | null;
  content: string;
}

export interface AskDone {
  cited: number[];
  extractive: boolean;
  provider: string | null;
  model: string | null;
}

export interface AskHandlers {
  onCitations: (citations: Citation[]) => void;
  onDelta: (text: string) => void;
  onDone: (done: AskDone) => void;
}

/** POST /v1/ask, streamed: citations first, then the answer piece by piece, then `done`.
 * Resolves after `done`; rejects on an HTTP error, an `error` event or a cut-off stream. */
export async function askStream(
  question: string,
  filters: ApiFilters,
  handlers: AskHandlers,
  options: { limit?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const response = await apiResponse("/v1/ask", {
    method: "POST",
    headers: { Accept: "text/event-stream" },
    body: JSON.stringify({ question, filters, limit: options.limit ?? 6 }),
    signal: options.signal,
  });
  if (!response.body) throw new ApiError("The answer could not be read.", response.status);
  for await (const { event, data } of readSse(response.body)) {
    if (event === "citations") handlers.onCitations(JSON.parse(data) as Citation[]);
    else if (event === "delta") handlers.onDelta((JSON.parse(data) as { text: string }).text);
    else if (event === "error") {
      throw new ApiError((JSON.parse(data) as { detail?: string }).detail || "The answer failed.", 502);
    } else if (event === "done") {
      handlers.onDone(JSON.parse(data) as AskDone);
      return;
    }
  }
  throw new ApiError("The answer stopped before it was finished.", 0);
}

// --- micro-threads: questions about one passage -----------------------------------------

export interface MicroThread {
  id: string;
  chunk_id: number;
  workspace_id: string;
  user_id: string;
  question: string;
  answer: string;
  /** "provider:model", or "extractive" when no language model was used. */
  model: string | null;
  /** [1] is the passage itself, the rest its neighbours. */
  citations: Citation[];
  created_at: string;
}

export async function passageThreads(chunkId: number): Promise<MicroThread[]> {
  const body = await apiFetch<{ threads: MicroThread[] }>(`/v1/passages/${chunkId}/threads`);
  return body.threads;
}

export function askAboutPassage(chunkId: number, question: string): Promise<MicroThread> {
  return apiFetch<MicroThread>(`/v1/passages/${chunkId}/threads`, {
    method: "POST",
    body: JSON.stringify({ question }),
  });
}

// --- summaries and topic threads -----------------------------------------------------------

export interface Summary {
  summary: string;
  key_topics: string[];
  /** "extractive" or "provider:model". */
  model: string;
  summarized_at: string;
}

export function summarizeSource(sourceId: string): Promise<Summary> {
  return apiFetch<Summary>(`/v1/sources/${encodeURIComponent(sourceId)}/summary`, {
    method: "POST",
    body: "{}",
  });
}

export function summarizeThread(threadId: string): Promise<Summary> {
  return apiFetch<Summary>(`/v1/threads/${encodeURIComponent(threadId)}/summary`, {
    method: "POST",
    body: "{}",
  });
}

export interface RegroupResult {
  threads: number;
  conversations: number;
  similarity: number;
  unthreaded: number;
}

export function regroupThreads(workspaceId: string, similarity: number): Promise<RegroupResult> {
  return apiFetch<RegroupResult>(`/v1/workspaces/${encodeURIComponent(workspaceId)}/threads/regroup`, {
    method: "POST",
    body: JSON.stringify({ similarity }),
  });
}
