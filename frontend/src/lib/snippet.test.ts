import { snippetSegments, unescapeHtml } from "./snippet";

describe("snippetSegments", () => {
  it("splits marked and plain text", () => {
    expect(snippetSegments("does my <mark>derailleur</mark> skip")).toEqual([
      { text: "does my ", marked: false },
      { text: "derailleur", marked: true },
      { text: " skip", marked: false },
    ]);
  });

  it("unescapes entities into text, so markup in a passage stays text", () => {
    const segments = snippetSegments("&lt;script&gt;alert(1)&lt;/script&gt; <mark>a&amp;b</mark>");
    expect(segments[0]).toEqual({ text: "<script>alert(1)</script> ", marked: false });
    expect(segments[1]).toEqual({ text: "a&b", marked: true });
  });

  it("unescapes only once", () => {
    expect(unescapeHtml("&amp;lt;")).toBe("&lt;");
  });

  it("handles several marks, marks at the edges and an empty snippet", () => {
    expect(snippetSegments("<mark>a</mark> and <mark>b</mark>")).toEqual([
      { text: "a", marked: true },
      { text: " and ", marked: false },
      { text: "b", marked: true },
    ]);
    expect(snippetSegments("")).toEqual([]);
  });

  it("drops a stray tag rather than showing it", () => {
    expect(snippetSegments("cut off <mark>mid")).toEqual([{ text: "cut off mid", marked: false }]);
  });
});
