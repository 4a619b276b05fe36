import { askModelUsed } from "../lib/answer";
import type { AnswerState } from "../lib/answerStream";
import { CitationList, CitedAnswerText, citedPassages, ModelBadge } from "./CitedAnswer";

/** The streamed answer to the search box's question, its citations linked to the passages. */
export function AnswerPanel({ state, onClose }: { state: AnswerState; onClose: () => void }) {
  const busy = state.status === "asking" || state.status === "streaming";
  const cited = citedPassages(state.text, state.citations);
  const nothingFound = state.status === "done" && state.citations.length === 0;
  return (
    <section className="answer-panel card" aria-labelledby="answer-title">
      <div className="answer-head">
        <h2 id="answer-title">Answer</h2>
        {state.done && <ModelBadge used={askModelUsed(state.done)} />}
        <button type="button" className="icon-button" aria-label="Close the answer" onClick={onClose}>
          ×
        </button>
      </div>
      <p className="muted small answer-question">to “{state.question}”</p>
      {/* Busy while streaming, so screen readers read the answer once rather than per piece. */}
      <div className="answer-body" aria-live="polite" aria-busy={busy}>
        {state.status === "asking" && <p className="muted">Finding passages…</p>}
        {state.text && <CitedAnswerText answer={state.text} citations={state.citations} />}
        {state.status === "streaming" && !state.text && <p className="muted">Writing the answer…</p>}
      </div>
      {state.error && (
        <p role="alert" className="error">
          {state.error}
        </p>
      )}
      {!nothingFound && <CitationList citations={cited} label="Cited passages" />}
    </section>
  );
}
