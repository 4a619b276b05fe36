import { describe, expect, it } from "vitest";
import type { SearchResult } from "./api";
import { groupByConversation, indexingNotice } from "./grouping";
import { nextResult, shouldFocusSearch } from "./keyboard";

const hit = (chunk_id: number, source_id: string): SearchResult =>
  ({ chunk_id, source_id, source_title: source_id, snippet: "", score: 1 / chunk_id }) as SearchResult;

describe("groupByConversation", () => {
  it("keeps each conversation once, at its best passage, with the rest in order", () => {
    const groups = groupByConversation([hit(1, "a"), hit(2, "a"), hit(3, "b"), hit(4, "a"), hit(5, "c")]);
    expect(groups.map((g) => g.sourceId)).toEqual(["a", "b", "c"]);
    expect(groups[0]?.best.chunk_id).toBe(1);
    expect(groups[0]?.more.map((r) => r.chunk_id)).toEqual([2, 4]);
    expect(groups[1]?.more).toEqual([]);
  });

  it("is empty for no results", () => {
    expect(groupByConversation([])).toEqual([]);
  });
});

describe("indexingNotice", () => {
  it("says how many conversations wait, and nothing when none do", () => {
    expect(indexingNotice(0)).toBeNull();
    expect(indexingNotice(1)).toMatch(/^1 conversation is still being indexed/);
    expect(indexingNotice(12)).toMatch(/^12 conversations are still being indexed for meaning search/);
  });
});

describe("keyboard", () => {
  it("takes Ctrl+K and Cmd+K even inside a field", () => {
    document.body.innerHTML = "<input id=i>";
    const input = document.getElementById("i");
    const key = (extra: Partial<KeyboardEvent>) =>
      shouldFocusSearch({ key: "k", ctrlKey: false, metaKey: false, altKey: false, target: input, ...extra });
    expect(key({ ctrlKey: true })).toBe(true);
    expect(key({ metaKey: true })).toBe(true);
    expect(key({ key: "K", ctrlKey: true })).toBe(true);
    expect(key({})).toBe(false);
    expect(key({ ctrlKey: true, altKey: true })).toBe(false);
  });

  it("moves through results with the arrows, staying inside the list", () => {
    expect(nextResult("ArrowDown", -1, 3)).toBe(0);
    expect(nextResult("ArrowDown", 2, 3)).toBe(2);
    expect(nextResult("ArrowUp", 1, 3)).toBe(0);
    expect(nextResult("ArrowUp", 0, 3)).toBe(0);
    expect(nextResult("End", 0, 3)).toBe(2);
    expect(nextResult("ArrowDown", -1, 0)).toBeNull();
    expect(nextResult("a", 0, 3)).toBeNull();
  });
});
