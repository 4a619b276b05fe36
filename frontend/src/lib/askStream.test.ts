import { askStream, type AskDone, type Citation } from "./api";

vi.mock("./supabase", () => ({ accessToken: async () => "token-1" }));
vi.mock("./config", () => ({ appConfig: () => ({ apiUrl: "http://api.test" }) }));

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

function collect() {
  const seen = { citations: [] as Citation[], text: "", done: null as AskDone | null };
  return {
    seen,
    handlers: {
      onCitations: (c: Citation[]) => (seen.citations = c),
      onDelta: (t: string) => (seen.text += t),
      onDone: (d: AskDone) => (seen.done = d),
    },
  };
}

afterEach(() => vi.unstubAllGlobals());

describe("askStream", () => {
  it("posts the question with the search filters and follows the events", async () => {
    const fetchMock = vi.fn(async () =>
      new Response(
        streamOf([
          'event: citations\ndata: [{"n":1,"chunk_id":5,"source_id":"s","source_title":"T","platform":"chatgpt","url":null,"role":"user","created_at":null,"content":"c"}]\n\n',
          'event: delta\ndata: {"text":"Yes "}\n\nevent: del',
          'ta\ndata: {"text":"[1]"}\n\nevent: done\ndata: {"cited":[1],"extractive":true,"provider":null,"model":null}\n\n',
        ]),
        { headers: { "content-type": "text/event-stream" } },
      ),
    );
    vi.stubGlobal("fetch", fetchMock);
    const { seen, handlers } = collect();
    await askStream("why?", { platform: "chatgpt" }, handlers);
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://api.test/v1/ask");
    expect(JSON.parse(init.body as string)).toEqual({ question: "why?", filters: { platform: "chatgpt" }, limit: 6 });
    const headers = new Headers(init.headers);
    expect(headers.get("accept")).toBe("text/event-stream");
    expect(headers.get("authorization")).toBe("Bearer token-1");
    expect(seen.citations[0]?.chunk_id).toBe(5);
    expect(seen.text).toBe("Yes [1]");
    expect(seen.done).toEqual({ cited: [1], extractive: true, provider: null, model: null });
  });

  it("reports the API's detail for an error before the stream", async () => {
    vi.stubGlobal("fetch", async () =>
      new Response(JSON.stringify({ detail: "no such workspace" }), {
        status: 404,
        headers: { "content-type": "application/json" },
      }),
    );
    await expect(askStream("q", {}, collect().handlers)).rejects.toThrow("no such workspace");
  });

  it("rejects on an error event and on a stream cut off before done", async () => {
    vi.stubGlobal("fetch", async () => new Response(streamOf(['event: error\ndata: {"detail":"provider failed"}\n\n'])));
    await expect(askStream("q", {}, collect().handlers)).rejects.toThrow("provider failed");
    vi.stubGlobal("fetch", async () => new Response(streamOf(['event: delta\ndata: {"text":"a"}\n\n'])));
    await expect(askStream("q", {}, collect().handlers)).rejects.toThrow("stopped before it was finished");
  });
});
