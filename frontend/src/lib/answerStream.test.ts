import type { Citation } from "./api";
import { answerReducer, IDLE, type AnswerAction } from "./answerStream";

const citation: Citation = {
  n: 1,
  chunk_id: 10,
  source_id: "s1",
  source_title: "Sourdough",
  platform: "chatgpt",
  url: null,
  role: "assistant",
  created_at: null,
  content: "Feed it twice a day.",
};

describe("answerReducer", () => {
  it("follows a stream from the question to done", () => {
    const actions: AnswerAction[] = [
      { type: "ask", question: "How often?" },
      { type: "citations", citations: [citation] },
      { type: "delta", text: "Twice " },
      { type: "delta", text: "a day [1]." },
      { type: "done", done: { cited: [1], extractive: true, provider: null, model: null } },
    ];
    const state = actions.reduce(answerReducer, IDLE);
    expect(state.status).toBe("done");
    expect(state.question).toBe("How often?");
    expect(state.text).toBe("Twice a day [1].");
    expect(state.citations).toEqual([citation]);
    expect(state.done?.extractive).toBe(true);
  });

  it("a new question forgets the old answer; an error keeps what had arrived", () => {
    let state = answerReducer(IDLE, { type: "ask", question: "a" });
    state = answerReducer(state, { type: "delta", text: "partial" });
    state = answerReducer(state, { type: "error", message: "provider failed" });
    expect(state).toMatchObject({ status: "error", text: "partial", error: "provider failed" });
    expect(answerReducer(state, { type: "ask", question: "b" })).toEqual({ ...IDLE, status: "asking", question: "b" });
  });
});
