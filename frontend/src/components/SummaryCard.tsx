import { useId } from "react";
import { modelUsed } from "../lib/answer";
import { formatWhen } from "../lib/format";
import type { SourceDetailsRow } from "../lib/rpc";
import { ModelBadge } from "./CitedAnswer";
import { TopicChips } from "./TopicChips";

/** What a conversation's details and a topic thread have in common. */
export type SummaryFields = Pick<SourceDetailsRow, "summary" | "key_topics" | "summary_model" | "summarized_at">;

/** A conversation's or a thread's summary and key topics, and the button that (re)writes it. */
export function SummaryCard({
  fields,
  of,
  pending,
  error,
  onSummarize,
}: {
  fields: SummaryFields;
  of: "conversation" | "thread";
  pending: boolean;
  error: Error | null;
  onSummarize: () => void;
}) {
  const titleId = useId();
  const summary = fields.summary?.trim() ?? "";
  return (
    <section className="summary card" aria-labelledby={titleId}>
      <div className="summary-head">
        <h2 id={titleId}>Summary</h2>
        <button type="button" onClick={onSummarize} disabled={pending}>
          {pending ? "Summarizing…" : summary ? "Refresh summary" : "Summarize"}
        </button>
      </div>
      <div aria-live="polite" aria-busy={pending}>
        {summary ? (
          <>
            <p className="summary-text">{summary}</p>
            <TopicChips topics={fields.key_topics} />
            <p className="muted small summary-meta">
              Summarized {formatWhen(fields.summarized_at)} <ModelBadge used={modelUsed(fields.summary_model)} />
            </p>
          </>
        ) : (
          <>
            <TopicChips topics={fields.key_topics} />
            <p className="muted small">No summary of this {of} yet.</p>
          </>
        )}
      </div>
      {error && (
        <p role="alert" className="error small">
          {error.message}
        </p>
      )}
    </section>
  );
}
