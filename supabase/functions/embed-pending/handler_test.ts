// deno test: the handler against a replayed knitter API (the API is a remote service to
// the function; its answers here have the API's real shape: embedded, pending, threaded).
import { type Fetch, handler } from "./handler.ts";

const env = {
  KNITTER_API_URL: "https://api.knitter.test/",
  SUPABASE_SERVICE_ROLE_KEY: "service-key",
  EMBED_WEBHOOK_SECRET: "webhook-secret",
};

function webhook(
  body: unknown,
  method = "POST",
  token: string | null = "webhook-secret",
): Request {
  return new Request("http://localhost/embed-pending", {
    method,
    body: method === "POST" ? JSON.stringify(body) : undefined,
    headers: token ? { authorization: `Bearer ${token}` } : {},
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

Deno.test("only the webhook's secret or the service key get through", async () => {
  const api = replay(200, { embedded: 0, pending: 0, threaded: 0 });
  for (const token of [null, "anon-key-jwt", "webhook-secre", "webhook-secret2"]) {
    const response = await handler(webhook(insert, "POST", token), env, api.fetch);
    assertEquals(response.status, 401);
  }
  assertEquals(api.calls.length, 0);
  for (const token of ["webhook-secret", "service-key"]) {
    const response = await handler(webhook(insert, "POST", token), env, api.fetch);
    assertEquals(response.status, 200);
  }
  assertEquals(api.calls.length, 2);
});

Deno.test("a burst of inserts drains once, and once more for what came meanwhile", async () => {
  const calls: string[] = [];
  let release: () => void = () => {};
  const slow: Fetch = (url) => {
    calls.push(url);
    return new Promise((resolve) => {
      release = () =>
        resolve(new Response(JSON.stringify({ embedded: 5, pending: 0, threaded: 0 })));
    });
  };
  const first = handler(webhook(insert), env, slow);
  await new Promise((r) => setTimeout(r, 0));
  const joined = await Promise.all(
    Array.from({ length: 20 }, () => handler(webhook(insert), env, slow)),
  );
  assertEquals(joined.map((r) => r.status), Array(20).fill(202));
  assertEquals(calls.length, 1);
  release();
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(calls.length, 2); // one more round for the rows of the burst
  release();
  assertEquals((await first).status, 200);
  assertEquals(calls.length, 2);
  // Quiet again: the next insert starts a new drain.
  const api = replay(200, { embedded: 1, pending: 0, threaded: 0 });
  assertEquals((await handler(webhook(insert), env, api.fetch)).status, 200);
  assertEquals(api.calls.length, 1);
});
