/** The Python API (imports, search, answers, summaries, keys): what needs a secret or a model. */
import { appConfig } from "./config";
import { ApiError, errorMessage } from "./errors";
import type { ApiFilters } from "./filters";
import type { components, paths } from "./api.types";
import { readSse } from "./sse";
import { accessToken } from "./supabase";

type Schemas = components["schemas"];

export type ImportJob = Schemas["ImportJob"];
export type ImportItemReport = Schemas["ImportItemReport"];
export type ImportFailure = Schemas["ImportError_"];
export type SearchResult = Schemas["SearchResult"];
export type SearchResponse = Schemas["SearchResponse"];
export type Provider = paths["/v1/keys/{provider}"]["get"]["parameters"]["path"]["provider"];
export type KeyInfo = Schemas["KeyInfoResponse"];
export type KeyTest = Schemas["KeyTestResponse"];
type ImportLinksBody = NonNullable<
  paths["/v1/imports"]["post"]["requestBody"]
>["content"]["application/json"];

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
    } satisfies Schemas["SearchBody"]),
    signal: options.signal,
  });
}

export function importLinks(urls: string[], workspaceId?: string): Promise<ImportJob> {
  return apiFetch<ImportJob>("/v1/imports", {
    method: "POST",
    body: JSON.stringify(
      (workspaceId ? { urls, workspace_id: workspaceId } : { urls }) satisfies ImportLinksBody,
    ),
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

/** The stored key of one provider, from the list (a 200 even when there is none, so the
 * settings page logs no 404). */
export async function storedKey(provider: Provider): Promise<KeyInfo | null> {
  const { keys } = await apiFetch<Schemas["KeyList"]>("/v1/keys");
  return keys.find((k) => k.provider === provider) ?? null;
}

export function storeKey(provider: Provider, key: string): Promise<KeyInfo> {
  return apiFetch<KeyInfo>(`/v1/keys/${provider}`, {
    method: "PUT",
    body: JSON.stringify({ key } satisfies Schemas["KeyBody"]),
  });
}

export function forgetKey(provider: Provider): Promise<null> {
  return apiFetch<null>(`/v1/keys/${provider}`, { method: "DELETE" });
}

export function testKey(provider: Provider): Promise<KeyTest> {
  return apiFetch<KeyTest>(`/v1/keys/${provider}/test`, { method: "POST" });
}

// --- embedding models -----------------------------------------------------------------

/** `available`: the server can embed with it now (a local model it has, a remote one it has a key for). */
export type EmbeddingModel = Schemas["EmbeddingModelResponse"];
/** `model` is what search uses now; `next_model` what the workspace is switching to. */
export type EmbeddingStatus = Schemas["EmbeddingStatusResponse"];

export function listEmbeddingModels(): Promise<EmbeddingModel[]> {
  return apiFetch<EmbeddingModel[]>("/v1/embedding-models");
}

export function embeddingStatus(workspaceId: string): Promise<EmbeddingStatus> {
  return apiFetch<EmbeddingStatus>(`/v1/workspaces/${encodeURIComponent(workspaceId)}/embedding-model`);
}

export function switchEmbeddingModel(workspaceId: string, modelId: number): Promise<EmbeddingStatus> {
  return apiFetch<EmbeddingStatus>(`/v1/workspaces/${encodeURIComponent(workspaceId)}/embedding-model`, {
    method: "PUT",
    body: JSON.stringify({ model_id: modelId } satisfies Schemas["EmbeddingModelBody"]),
  });
}

// --- answers --------------------------------------------------------------------------

/** A numbered passage an answer may cite as "[n]". */
export type Citation = Schemas["Citation"];

/** The stream's `done` event: the answer's JSON form without the text and the citations. */
export type AskDone = Omit<Schemas["AskResponse"], "answer" | "citations">;

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
    body: JSON.stringify({ question, filters, limit: options.limit ?? 6 } satisfies Schemas["AskBody"]),
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

/** A question about one passage and its answer; citation [1] is the passage itself. */
export type MicroThread = Schemas["MicroThread"];

export async function passageThreads(chunkId: number): Promise<MicroThread[]> {
  const body = await apiFetch<Schemas["MicroThreadsResponse"]>(`/v1/passages/${chunkId}/threads`);
  return body.threads;
}

export function askAboutPassage(chunkId: number, question: string): Promise<MicroThread> {
  return apiFetch<MicroThread>(`/v1/passages/${chunkId}/threads`, {
    method: "POST",
    body: JSON.stringify({ question } satisfies Schemas["MicroThreadBody"]),
  });
}

/** Deletes one's own question (and its answer); another member's is a 403. */
export async function deleteMicroThread(chunkId: number, threadId: string): Promise<void> {
  await apiFetch<null>(`/v1/passages/${chunkId}/threads/${encodeURIComponent(threadId)}`, { method: "DELETE" });
}

// --- summaries and topic threads -----------------------------------------------------------

export type Summary = Schemas["SummaryResponse"];

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

export type RegroupResult = Schemas["RegroupResponse"];

export function regroupThreads(workspaceId: string, similarity: number): Promise<RegroupResult> {
  return apiFetch<RegroupResult>(`/v1/workspaces/${encodeURIComponent(workspaceId)}/threads/regroup`, {
    method: "POST",
    body: JSON.stringify({ similarity } satisfies Schemas["RegroupBody"]),
  });
}

// --- account --------------------------------------------------------------------------

/** The phrase DELETE /v1/account needs, typed by the person to confirm. */
export const DELETE_PHRASE = "delete my account";

/** Everything the person owns, as the API's zip (conversations.json + one Markdown file per
 * conversation). */
export async function exportData(): Promise<Blob> {
  return (await apiResponse("/v1/export?format=zip")).blob();
}

export function deleteAccount(): Promise<null> {
  return apiFetch<null>("/v1/account", {
    method: "DELETE",
    body: JSON.stringify({ confirm: DELETE_PHRASE } satisfies Schemas["AccountDeleteBody"]),
  });
}

export async function importHistory(limit = 50): Promise<ImportJob[]> {
  return (await apiFetch<Schemas["ImportJobList"]>(`/v1/imports?limit=${limit}`)).jobs;
}
