import { linkKind, originalAt, parseLinks, passagePath } from "./links";

describe("parseLinks", () => {
  it("takes http(s) links separated by spaces, commas or lines, once each", () => {
    expect(
      parseLinks("https://chatgpt.com/share/abc, https://youtu.be/xyz\nhttps://youtu.be/xyz"),
    ).toEqual({ urls: ["https://chatgpt.com/share/abc", "https://youtu.be/xyz"], invalid: [] });
  });

  it("reports what is not a web address", () => {
    expect(parseLinks("ftp://x.org/file /etc/passwd javascript:alert(1) hello")).toEqual({
      urls: [],
      invalid: ["ftp://x.org/file", "/etc/passwd", "javascript:alert(1)", "hello"],
    });
  });

  it("returns nothing for blank input", () => {
    expect(parseLinks("  \n ")).toEqual({ urls: [], invalid: [] });
  });
});

describe("linkKind", () => {
  it.each([
    ["https://chatgpt.com/share/abc", "chatgpt-share"],
    ["https://chat.openai.com/share/abc", "chatgpt-share"],
    ["https://chatgpt.com/c/abc", "web"],
    ["https://www.youtube.com/watch?v=x", "youtube"],
    ["https://m.youtube.com/shorts/x", "youtube"],
    ["https://youtu.be/x", "youtube"],
    ["https://notyoutube.com/watch?v=x", "web"],
  ])("%s is %s", (url, kind) => {
    expect(linkKind(url)).toBe(kind);
  });
});

describe("originalAt", () => {
  it("adds the start second to a YouTube link", () => {
    expect(originalAt("https://www.youtube.com/watch?v=abc", { start: 61.7 })).toBe(
      "https://www.youtube.com/watch?v=abc&t=61",
    );
  });

  it("leaves other links and passages without a start alone", () => {
    expect(originalAt("https://example.org/a", { start: 5 })).toBe("https://example.org/a");
    expect(originalAt("https://youtu.be/abc", null)).toBe("https://youtu.be/abc");
    expect(originalAt(null, { start: 5 })).toBeNull();
  });
});

describe("passagePath", () => {
  it("opens the conversation at the passage", () => {
    expect(passagePath({ source_id: "abc-1", chunk_id: 42 })).toBe("/sources/abc-1?passage=42");
    expect(passagePath({ source_id: "abc-1", chunk_id: 42 }, " sour & dough ")).toBe("/sources/abc-1?passage=42&q=sour+%26+dough");
  });
});
