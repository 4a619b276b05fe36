/** Server-sent events read from a fetch() body: EventSource cannot POST or send headers,
 * so the text/event-stream format is parsed here (WHATWG HTML §9.2, the parts we use). */
export interface SseEvent {
  event: string; // "message" when the block names none
  data: string; // the block's data lines joined with "\n"
  id?: string;
}

export interface SseParser {
  /** Feeds decoded text; returns the events completed by it. */
  push(text: string): SseEvent[];
  /** The stream ended: as in browsers, a last block without its blank line is dropped. */
  end(): SseEvent[];
}

export function createSseParser(): SseParser {
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  let sawField = false;

  function dispatch(out: SseEvent[]) {
    if (sawField && data.length > 0) {
      out.push({ event: event || "message", data: data.join("\n"), ...(id !== undefined ? { id } : {}) });
    }
    event = "";
    data = [];
    sawField = false;
  }

  function line(text: string, out: SseEvent[]) {
    if (text === "") return dispatch(out);
    if (text.startsWith(":")) return; // a comment (keep-alive)
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    sawField = true;
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id" && !value.includes("\0")) id = value;
  }

  function drain(final: boolean): SseEvent[] {
    const out: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      if (!match) break;
      // A lone "\r" at the very end may be the first half of a "\r\n" still on its way.
      if (match[0] === "\r" && match.index === buffer.length - 1 && !final) break;
      line(buffer.slice(0, match.index), out);
      buffer = buffer.slice(match.index + match[0].length);
    }
    if (final) {
      buffer = ""; // an unfinished last line or block is dropped
      event = "";
      data = [];
      sawField = false;
    }
    return out;
  }

  return {
    push(text) {
      buffer += text;
      return drain(false);
    },
    end() {
      return drain(true);
    },
  };
}

/** The events of a streamed response body, as they arrive. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = createSseParser();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    finished = true;
    yield* parser.push(decoder.decode());
    yield* parser.end();
  } finally {
    // The reader stopped early (an error, or the caller stopped listening): close the stream.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
