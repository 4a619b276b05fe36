// deno test: the handler against a replayed knitter API (the API is a remote service to
// the function; its answers here have the API's real shape: embedded, pending, threaded).
import { type Fetch, handler } from "./handler.ts";

const env = {
  KNITTER_API_URL: "https://api.knitter.test/",
  SUPABASE_SERVICE_ROLE_KEY: "service-key",
};

function webhook(body: unknown, method = "POST"): Request {
  return new Request("http://localhost/embed-pending", {
    method,
    body: method === "POST" ? JSON.stringify(body) : undefined,
  });
}

const insert = {
  type: "INSERT",
  table: "embedding_queue",
  schema: "public",
  record: {
    chunk_id: 7,
    model_id: 1,
    workspace_id: "0b5f…",
    enqueued_at: "2026-11-26T00:00:00Z",
  },
  old_record: null,
};

function replay(
  status: number,
  body: unknown,
): { fetch: Fetch; calls: [string, RequestInit][] } {
  const calls: [string, RequestInit][] = [];
  return {
    calls,
    fetch: (url, init) => {
      calls.push([url, init]);
      return Promise.resolve(new Response(JSON.stringify(body), { status }));
    },
  };
}

function assertEquals(actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`expected ${e}, got ${a}`);
}

Deno.test("an insert asks the API to drain the queue with the service key", async () => {
  const api = replay(200, { embedded: 3, pending: 0, threaded: 1 });
  const response = await handler(webhook(insert), env, api.fetch);
  assertEquals(response.status, 200);
  assertEquals(await response.json(), { embedded: 3, pending: 0, threaded: 1 });
  assertEquals(api.calls.length, 1);
  const [url, init] = api.calls[0];
  assertEquals(url, "https://api.knitter.test/v1/queue/drain");
  assertEquals(
    (init.headers as Record<string, string>).authorization,
    "Bearer service-key",
  );
  assertEquals(JSON.parse(init.body as string), { max_batches: 10 });
});

Deno.test("other events and tables do not call the API", async () => {
  const api = replay(200, {});
  assertEquals(
    (await handler(webhook({ ...insert, type: "DELETE" }), env, api.fetch))
      .status,
    200,
  );
  assertEquals(
    (await handler(webhook({ ...insert, table: "chunks" }), env, api.fetch))
      .status,
    400,
  );
  assertEquals(
    (await handler(webhook("nonsense"), env, api.fetch)).status,
    400,
  );
  assertEquals(
    (await handler(webhook(null, "GET"), env, api.fetch)).status,
    405,
  );
  assertEquals(api.calls.length, 0);
});

Deno.test("API failures become 502 and configuration errors 500", async () => {
  const failing = replay(503, { detail: "database unreachable" });
  const response = await handler(webhook(insert), env, failing.fetch);
  assertEquals(response.status, 502);
  const unreachable: Fetch = () =>
    Promise.reject(new TypeError("connection refused"));
  assertEquals((await handler(webhook(insert), env, unreachable)).status, 502);
  assertEquals((await handler(webhook(insert), {}, failing.fetch)).status, 500);
});
