import { groupMessages, passageParam } from "./conversation";
import { errorMessage } from "./errors";
import { formatBytes } from "./format";
import { shouldFocusSearch } from "./keyboard";
import { loadRecent, rememberQuery, suggestions } from "./recent";
import type { PassageRow } from "./rpc";
import { resolveTheme, storedTheme } from "./theme";

const passage = (chunk_id: number, message_index: number, role = "user"): PassageRow => ({
  chunk_id,
  message_index,
  chunk_index: 0,
  role,
  author: null,
  model: null,
  created_at: null,
  content: `p${chunk_id}`,
  metadata: null,
});

describe("groupMessages", () => {
  it("groups consecutive passages of one message", () => {
    const groups = groupMessages([passage(1, 0), passage(2, 0), passage(3, 1, "assistant")]);
    expect(groups.map((g) => [g.messageIndex, g.role, g.passages.map((p) => p.chunk_id)])).toEqual([
      [0, "user", [1, 2]],
      [1, "assistant", [3]],
    ]);
  });
});

describe("passageParam", () => {
  it("accepts only a plain id", () => {
    expect(passageParam("42")).toBe(42);
    expect(passageParam("4e2")).toBeNull();
    expect(passageParam("-1")).toBeNull();
    expect(passageParam(null)).toBeNull();
    expect(passageParam("99999999999999999999")).toBeNull();
  });
});

describe("errorMessage", () => {
  it("reads FastAPI, PostgREST and GoTrue bodies", () => {
    expect(errorMessage({ detail: "no such import" }, 404)).toBe("no such import");
    expect(
      errorMessage({ detail: [{ loc: ["body", "query"], msg: "String should have at least 1 character" }] }, 422),
    ).toBe("query: String should have at least 1 character");
    expect(errorMessage({ message: "permission denied" }, 403)).toBe("permission denied");
    expect(errorMessage({ error_description: "Invalid login credentials" }, 400)).toBe(
      "Invalid login credentials",
    );
  });

  it("falls back on the status", () => {
    expect(errorMessage(null, 413)).toMatch(/too large/);
    expect(errorMessage(null, 0)).toMatch(/could not be reached/);
    expect(errorMessage({}, 502)).toBe("The request failed (HTTP 502).");
  });
});

describe("shouldFocusSearch", () => {
  const key = (target: Element | null, extra: Partial<KeyboardEvent> = {}) =>
    shouldFocusSearch({ key: "/", ctrlKey: false, metaKey: false, altKey: false, target, ...extra });

  it("takes `/` outside fields only", () => {
    document.body.innerHTML = "<div id=d></div><input id=i><textarea id=t></textarea><div contenteditable='true'><b id=b></b></div>";
    expect(key(document.getElementById("d"))).toBe(true);
    expect(key(document.body)).toBe(true);
    expect(key(document.getElementById("i"))).toBe(false);
    expect(key(document.getElementById("t"))).toBe(false);
    expect(key(document.getElementById("b"))).toBe(false);
    expect(key(document.body, { ctrlKey: true })).toBe(false);
    expect(key(document.body, { key: "?" })).toBe(false);
  });
});

describe("recent searches", () => {
  it("keeps the newest first, without duplicates, at most eight", () => {
    let recent: string[] = [];
    for (const q of ["a1", "b2", "A1", " c3 ", "x"]) recent = rememberQuery(recent, q);
    expect(recent).toEqual(["c3", "A1", "b2"]);
    for (let i = 0; i < 10; i += 1) recent = rememberQuery(recent, `q${i}`);
    expect(recent).toHaveLength(8);
  });

  it("survives garbage in storage", () => {
    expect(loadRecent("u", { getItem: () => "{not json" })).toEqual([]);
    expect(loadRecent("u", { getItem: () => JSON.stringify(["ok", 3, null]) })).toEqual(["ok"]);
  });
});

describe("theme", () => {
  it("resolves system from the media query", () => {
    expect(resolveTheme("system", true)).toBe("dark");
    expect(resolveTheme("system", false)).toBe("light");
    expect(resolveTheme("light", true)).toBe("light");
  });

  it("falls back to system for unknown stored values", () => {
    expect(storedTheme({ getItem: () => "purple" })).toBe("system");
    expect(storedTheme({ getItem: () => "dark" })).toBe("dark");
  });
});

describe("formatBytes", () => {
  it("uses binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(12 * 1024)).toBe("12 KiB");
    expect(formatBytes(1.5 * 1024 * 1024)).toBe("1.5 MiB");
  });
});

describe("suggestions", () => {
  it("offers matching recent searches first, then matching titles, once each", () => {
    const recent = ["sourdough smell", "derailleur", "Sourdough Starter Troubleshooting"];
    const titles = ["Sourdough starter troubleshooting", "Bicycle gears", "Sour cherries"];
    expect(suggestions("sour", recent, titles)).toEqual([
      "sourdough smell",
      "Sourdough Starter Troubleshooting",
      "Sour cherries",
    ]);
  });

  it("offers recent searches for an empty box, and titles only from two letters", () => {
    expect(suggestions("", ["a", "b"], ["alpha"])).toEqual(["a", "b"]);
    expect(suggestions("g", [], ["Bicycle gears"])).toEqual([]);
    expect(suggestions("ge", [], ["Bicycle gears"])).toEqual(["Bicycle gears"]);
  });

  it("does not suggest exactly what is typed, and stops at max", () => {
    expect(suggestions("gears", ["gears"], ["Gears"])).toEqual([]);
    expect(suggestions("t", Array.from({ length: 20 }, (_, i) => `t${i}`), [], 3)).toEqual(["t0", "t1", "t2"]);
  });
});
