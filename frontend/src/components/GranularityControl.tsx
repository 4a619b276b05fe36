import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { regroupThreads } from "../lib/api";
import { count, plural } from "../lib/format";
import { invalidateThreads, useThreadSettings } from "../lib/queries";
import type { WorkspaceRow } from "../lib/rpc";
import { clampSimilarity, SIMILARITY_MAX, SIMILARITY_MIN, SIMILARITY_STEP } from "../lib/threads";

function waitingText(unthreaded: number): string {
  return unthreaded === 1
    ? "1 conversation is waiting for its embeddings."
    : `${count(unthreaded)} conversations are waiting for their embeddings.`;
}

/** How alike conversations must be to share a thread, and regrouping with a new setting. */
export function GranularityControl({ workspace }: { workspace: WorkspaceRow }) {
  const queryClient = useQueryClient();
  const settings = useThreadSettings(workspace.id);
  const [draft, setDraft] = useState<number | null>(null);
  const regroup = useMutation({
    mutationFn: (similarity: number) => regroupThreads(workspace.id, similarity),
    onSuccess: async () => {
      setDraft(null);
      await invalidateThreads(queryClient);
    },
  });
  const stored = settings.data ? clampSimilarity(settings.data.similarity) : null;
  const value = draft ?? stored ?? 0.5;
  const viewer = workspace.role === "viewer";
  const unthreaded = settings.data?.unthreaded ?? 0;

  function start() {
    const ok = window.confirm(
      "Regroup all conversations of this workspace? The current threads are replaced: merges and splits made by hand are lost.",
    );
    if (ok) regroup.mutate(value);
  }

  return (
    <section className="granularity card" aria-labelledby="granularity-title">
      <h2 id="granularity-title" className="visually-hidden">
        Grouping
      </h2>
      <div className="granularity-row">
        <label htmlFor="granularity">Granularity</label>
        <span className="muted small" aria-hidden="true">
          broader
        </span>
        <input
          id="granularity"
          type="range"
          min={SIMILARITY_MIN}
          max={SIMILARITY_MAX}
          step={SIMILARITY_STEP}
          value={value}
          disabled={!settings.data || viewer || regroup.isPending}
          aria-describedby="granularity-help"
          aria-valuetext={`${value.toFixed(2)}: lower is broader threads, higher is narrower`}
          onChange={(e) => setDraft(clampSimilarity(Number(e.target.value)))}
        />
        <span className="muted small" aria-hidden="true">
          narrower
        </span>
        <output htmlFor="granularity" className="small">
          {value.toFixed(2)}
        </output>
        <button type="button" onClick={start} disabled={!settings.data || viewer || regroup.isPending}>
          {regroup.isPending ? "Regrouping…" : "Regroup"}
        </button>
      </div>
      <p id="granularity-help" className="muted small">
        Conversations share a thread when they are at least this similar: slide left for fewer, broader
        threads, right for more, narrower ones. Regrouping replaces the current threads; merges and splits
        made by hand are lost.
        {viewer && " Only editors can regroup this workspace."}
      </p>
      <p role="status" className="small">
        {unthreaded > 0 && <span className="muted">{waitingText(unthreaded)} </span>}
        {regroup.data &&
          `Regrouped ${plural(regroup.data.conversations, "conversation")} into ${plural(regroup.data.threads, "thread")}.`}
      </p>
      {(settings.error ?? regroup.error) && (
        <p role="alert" className="error small">
          {(settings.error ?? regroup.error)?.message}
        </p>
      )}
    </section>
  );
}
