import { describe, expect, it } from "vitest";
import { highlightTerms } from "./highlight";

const marked = (text: string, query: string) =>
  highlightTerms(text, query)
    .filter((s) => s.marked)
    .map((s) => s.text);

describe("highlightTerms", () => {
  it("marks the search words, stemmed and case-insensitively, whole words only", () => {
    expect(marked("My Starter smelled of acetone; the starters are fine.", "starter smells")).toEqual([
      "Starter",
      "smelled",
      "starters",
    ]);
    expect(marked("restart the pod", "art")).toEqual([]);
  });

  it("keeps every character, marks none for stop words, and never builds HTML", () => {
    const text = "<b>how</b> to fix it";
    expect(highlightTerms(text, "fix").map((s) => s.text).join("")).toBe(text);
    expect(marked(text, "how to")).toEqual([]);
    expect(marked("a (b) c", "(b)")).toEqual([]);
    expect(marked("price 1.50 [xy]", "[xy] 1.50")).toEqual(["50", "xy"]);
  });

  it("marks words in any script", () => {
    expect(marked("Über die Brücke", "brücke")).toEqual(["Brücke"]);
  });
});
