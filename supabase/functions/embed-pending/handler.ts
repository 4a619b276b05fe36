// The target of a Supabase Database Webhook on public.embedding_queue: when passages are
// queued (inserted through an RPC or SQL, without embeddings), ask the knitter API to embed
// them. The API does the work (it holds the models and keys) and takes queue rows
// `for update skip locked`, so overlapping calls never embed a passage twice.
//
// Only its callers get through: the webhook, with the secret EMBED_WEBHOOK_SECRET as its
// bearer token, or the service role. The public anon key is refused (the function runs
// with verify_jwt = false, see supabase/config.toml, so this check is the only one).
// The webhook fires once per inserted row: while a drain runs, further calls only ask it
// to go round once more, so a burst of inserts costs one drain (plus one for the rows that
// came in meanwhile), not one per row.

export interface Env {
  KNITTER_API_URL?: string;
  SUPABASE_SERVICE_ROLE_KEY?: string;
  EMBED_WEBHOOK_SECRET?: string;
}

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

// The shape Supabase Database Webhooks post.
interface WebhookPayload {
  type: "INSERT" | "UPDATE" | "DELETE";
  table: string;
  schema: string;
  record: Record<string, unknown> | null;
  old_record: Record<string, unknown> | null;
}

const TIMEOUT_MS = 55_000; // under the edge runtime's wall-clock limit

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function isPayload(value: unknown): value is WebhookPayload {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.type === "string" && typeof v.table === "string" &&
    typeof v.schema === "string";
}

// Equal strings, compared in a time that does not depend on where they differ.
function same(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  }
  return diff === 0;
}

function authorized(req: Request, env: Env): boolean {
  const header = req.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) return false;
  const allowed = [env.EMBED_WEBHOOK_SECRET, env.SUPABASE_SERVICE_ROLE_KEY]
    .filter((k): k is string => !!k);
  return allowed.some((k) => same(match[1], k));
}

async function drainOnce(
  apiUrl: string,
  serviceKey: string,
  fetchImpl: Fetch,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetchImpl(`${apiUrl}/v1/queue/drain`, {
      method: "POST",
      headers: {
        "authorization": `Bearer ${serviceKey}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ max_batches: 10 }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    // The rows stay queued; the next webhook or the API's own worker picks them up.
    return json(502, {
      error: `the knitter API is unreachable: ${(error as Error).name}`,
    });
  }
  const text = await response.text();
  if (!response.ok) {
    return json(502, {
      error: `the knitter API answered ${response.status}`,
      detail: text.slice(0, 500),
    });
  }
  return json(200, JSON.parse(text));
}

// The drain running in this isolate, and whether calls arrived while it ran.
let running: Promise<Response> | null = null;
let again = false;

// One drain at a time; calls during it make it go round once more. null: joined.
function coalescedDrain(
  apiUrl: string,
  serviceKey: string,
  fetchImpl: Fetch,
): Promise<Response> | null {
  if (running) {
    again = true;
    return null;
  }
  running = (async () => {
    let response = await drainOnce(apiUrl, serviceKey, fetchImpl);
    while (again && response.ok) {
      again = false;
      response = await drainOnce(apiUrl, serviceKey, fetchImpl);
    }
    return response;
  })().finally(() => {
    running = null;
    again = false;
  });
  return running;
}

export async function handler(
  req: Request,
  env: Env,
  fetchImpl: Fetch,
): Promise<Response> {
  if (req.method !== "POST") {
    return json(405, { error: "POST a Database Webhook payload" });
  }
  const apiUrl = env.KNITTER_API_URL?.replace(/\/+$/, "");
  const serviceKey = env.SUPABASE_SERVICE_ROLE_KEY;
  if (!apiUrl || !serviceKey) {
    return json(500, {
      error: "KNITTER_API_URL and SUPABASE_SERVICE_ROLE_KEY must be set",
    });
  }
  if (!authorized(req, env)) {
    return json(401, {
      error: "only the database webhook or the service role may call this",
    });
  }
  let payload: unknown;
  try {
    payload = await req.json();
  } catch {
    return json(400, { error: "the body is not JSON" });
  }
  if (!isPayload(payload)) {
    return json(400, { error: "not a Database Webhook payload" });
  }
  if (payload.schema !== "public" || payload.table !== "embedding_queue") {
    return json(400, {
      error: `unexpected table ${payload.schema}.${payload.table}`,
    });
  }
  if (payload.type !== "INSERT") return json(200, { skipped: payload.type });

  const drain = coalescedDrain(apiUrl, serviceKey, fetchImpl);
  if (drain === null) return json(202, { coalesced: true });
  return await drain;
}
