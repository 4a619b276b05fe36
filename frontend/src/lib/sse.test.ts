import { createSseParser, readSse, type SseEvent } from "./sse";

function parseAll(chunks: string[]): SseEvent[] {
  const parser = createSseParser();
  return [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
}

describe("createSseParser", () => {
  it("reads named events with JSON data", () => {
    expect(parseAll(['event: citations\ndata: [{"n":1}]\n\nevent: done\ndata: {}\n\n'])).toEqual([
      { event: "citations", data: '[{"n":1}]' },
      { event: "done", data: "{}" },
    ]);
  });

  it("joins chunks split anywhere, even inside a field name or an event boundary", () => {
    const text = 'event: delta\ndata: {"text":"Hello"}\n\nevent: delta\ndata: {"text":" world"}\n\n';
    const expected = parseAll([text]);
    for (let cut = 1; cut < text.length; cut += 1) {
      expect(parseAll([text.slice(0, cut), text.slice(cut)])).toEqual(expected);
    }
    expect(parseAll(text.split(""))).toEqual(expected);
  });

  it("returns an event only once its blank line has arrived", () => {
    const parser = createSseParser();
    expect(parser.push("event: delta\ndata: a\n")).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "delta", data: "a" }]);
  });

  it("joins multi-line data with newlines", () => {
    expect(parseAll(["data: first\ndata: second\ndata:\ndata:  indented\n\n"])).toEqual([
      { event: "message", data: "first\nsecond\n\n indented" },
    ]);
  });

  it("accepts CRLF and CR line ends, also when CRLF is split between chunks", () => {
    expect(parseAll(["event: a\r\ndata: 1\r", "\n\r\nevent: b\rdata: 2\r\r"])).toEqual([
      { event: "a", data: "1" },
      { event: "b", data: "2" },
    ]);
  });

  it("skips comments, unknown fields and blocks without data; keeps the last id", () => {
    expect(parseAll([": keep-alive\n\nretry: 10\nfoo: bar\n\nid: 7\nevent: x\ndata: y\n\n"])).toEqual([
      { event: "x", data: "y", id: "7" },
    ]);
  });

  it("drops an unfinished last block when the stream ends", () => {
    expect(parseAll(["event: done\ndata: {}\n\nevent: delta\ndata: cut"])).toEqual([
      { event: "done", data: "{}" },
    ]);
  });
});

describe("readSse", () => {
  it("decodes UTF-8 split between network chunks", async () => {
    const bytes = new TextEncoder().encode('event: delta\ndata: {"text":"café ✓"}\n\n');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    const events: SseEvent[] = [];
    for await (const event of readSse(stream)) events.push(event);
    expect(events).toEqual([{ event: "delta", data: '{"text":"café ✓"}' }]);
  });
});
