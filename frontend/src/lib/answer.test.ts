import { answerSegments, askModelUsed, citedNumbers, excerpt, modelUsed } from "./answer";

describe("answerSegments", () => {
  it("turns known [n] into citations and keeps the text around them", () => {
    expect(answerSegments("Feed it twice a day [1]. Keep it warm [2][1].", [1, 2])).toEqual([
      { kind: "text", text: "Feed it twice a day " },
      { kind: "cite", n: 1 },
      { kind: "text", text: ". Keep it warm " },
      { kind: "cite", n: 2 },
      { kind: "cite", n: 1 },
      { kind: "text", text: "." },
    ]);
  });

  it("leaves unknown numbers, half-streamed markers and other brackets as text", () => {
    expect(answerSegments("See [3] and [a] and [1", [1])).toEqual([
      { kind: "text", text: "See [3] and [a] and [1" },
    ]);
  });

  it("handles a citation at the very start and an empty answer", () => {
    expect(answerSegments("[1]", [1])).toEqual([{ kind: "cite", n: 1 }]);
    expect(answerSegments("", [1])).toEqual([]);
  });

  it("never interprets markup", () => {
    expect(answerSegments("<b>x</b> [1]", new Set([1]))).toEqual([
      { kind: "text", text: "<b>x</b> " },
      { kind: "cite", n: 1 },
    ]);
  });
});

describe("citedNumbers", () => {
  it("lists each cited number once, in order of first citation", () => {
    expect(citedNumbers(answerSegments("a [2] b [1] c [2]", [1, 2]))).toEqual([2, 1]);
  });
});

describe("modelUsed", () => {
  it("reads extractive, provider:model and nothing", () => {
    expect(modelUsed("extractive")).toEqual({ extractive: true, label: null });
    expect(modelUsed("openai:gpt-4o-mini")).toEqual({ extractive: false, label: "openai · gpt-4o-mini" });
    expect(modelUsed("gemini:models/x:1")).toEqual({ extractive: false, label: "gemini · models/x:1" });
    expect(modelUsed(null)).toEqual({ extractive: false, label: null });
  });

  it("reads the done event of an answer", () => {
    expect(askModelUsed({ extractive: true, provider: null, model: null })).toEqual({ extractive: true, label: null });
    expect(askModelUsed({ extractive: false, provider: "gemini", model: "gemini-2.5-flash" })).toEqual({
      extractive: false,
      label: "gemini · gemini-2.5-flash",
    });
  });
});

describe("excerpt", () => {
  it("flattens white space and cuts long passages at a word", () => {
    expect(excerpt("a\n\n b  c")).toBe("a b c");
    expect(excerpt("one two three four", 15)).toBe("one two three…");
    expect(excerpt("abcdefghijklmnop", 5)).toBe("abcde…");
  });
});
