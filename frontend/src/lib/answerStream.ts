import { useCallback, useEffect, useReducer, useRef } from "react";
import { askStream, type AskDone, type Citation } from "./api";
import type { ApiFilters } from "./filters";

/** One streamed answer, from the question to `done` (or an error). */
export interface AnswerState {
  status: "idle" | "asking" | "streaming" | "done" | "error";
  question: string;
  citations: Citation[];
  text: string;
  done: AskDone | null;
  error: string | null;
}

export type AnswerAction =
  | { type: "ask"; question: string }
  | { type: "citations"; citations: Citation[] }
  | { type: "delta"; text: string }
  | { type: "done"; done: AskDone }
  | { type: "error"; message: string }
  | { type: "clear" };

export const IDLE: AnswerState = {
  status: "idle",
  question: "",
  citations: [],
  text: "",
  done: null,
  error: null,
};

export function answerReducer(state: AnswerState, action: AnswerAction): AnswerState {
  switch (action.type) {
    case "ask":
      return { ...IDLE, status: "asking", question: action.question };
    case "citations":
      return { ...state, status: "streaming", citations: action.citations };
    case "delta":
      return { ...state, status: "streaming", text: state.text + action.text };
    case "done":
      return { ...state, status: "done", done: action.done };
    case "error":
      return { ...state, status: "error", error: action.message };
    case "clear":
      return IDLE;
  }
}

/** Asks /v1/ask and follows the stream; a new question (or leaving the page) stops the old one. */
export function useAnswerStream() {
  const [state, dispatch] = useReducer(answerReducer, IDLE);
  const running = useRef<AbortController | null>(null);

  const stop = useCallback(() => {
    running.current?.abort();
    running.current = null;
  }, []);

  const ask = useCallback(
    (question: string, filters: ApiFilters) => {
      stop();
      const controller = new AbortController();
      running.current = controller;
      dispatch({ type: "ask", question });
      const live = () => running.current === controller;
      askStream(
        question,
        filters,
        {
          onCitations: (citations) => live() && dispatch({ type: "citations", citations }),
          onDelta: (text) => live() && dispatch({ type: "delta", text }),
          onDone: (done) => live() && dispatch({ type: "done", done }),
        },
        { signal: controller.signal },
      ).catch((error: unknown) => {
        if (!live()) return; // stopped on purpose
        dispatch({ type: "error", message: error instanceof Error ? error.message : String(error) });
      });
    },
    [stop],
  );

  const clear = useCallback(() => {
    stop();
    dispatch({ type: "clear" });
  }, [stop]);

  useEffect(() => stop, [stop]);
  return { state, ask, clear };
}
