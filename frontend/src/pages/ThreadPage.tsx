import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { PlatformIcon } from "../components/PlatformIcon";
import { SourceHeading } from "../components/SourceHeading";
import { SummaryCard } from "../components/SummaryCard";
import { ThreadStats } from "../components/ThreadListItem";
import { TopicChips } from "../components/TopicChips";
import { summarizeThread } from "../lib/api";
import { plural } from "../lib/format";
import { invalidateThreads, useThreadSources, useTopicThread } from "../lib/queries";
import { renameTopicThread, splitTopicThread, type ThreadSourceRow, type TopicThreadRow } from "../lib/rpc";
import { threadTitle } from "../lib/threads";

/** The title, renamed in place; an empty title hands it back to automatic titles. */
function ThreadTitle({ thread }: { thread: TopicThreadRow }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<string | null>(null);
  const rename = useMutation({
    mutationFn: (title: string) => renameTopicThread(thread.id, title),
    onSuccess: async (changed) => {
      if (!changed) throw new Error("The thread could not be renamed.");
      setDraft(null);
      await invalidateThreads(queryClient);
    },
  });
  const title = threadTitle(thread);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (draft !== null) rename.mutate(draft.trim());
  }

  return (
    <div className="thread-title">
      {draft === null ? (
        <div className="thread-title-row">
          <h1 id="thread-title">{title}</h1>
          <button
            type="button"
            className="small"
            onClick={() => setDraft(thread.title_source === "pending" ? "" : thread.title)}
          >
            Rename
          </button>
        </div>
      ) : (
        <form className="rename-form" onSubmit={submit}>
          <h1 id="thread-title" className="visually-hidden">
            {title}
          </h1>
          <label htmlFor="thread-title-input" className="visually-hidden">
            Thread title
          </label>
          <input
            id="thread-title-input"
            value={draft}
            maxLength={200}
            autoFocus
            placeholder="Empty: let knitter title it"
            aria-describedby="rename-help"
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => e.key === "Escape" && setDraft(null)}
          />
          <button type="submit" className="primary" disabled={rename.isPending}>
            {rename.isPending ? "Saving…" : "Save"}
          </button>
          <button type="button" onClick={() => setDraft(null)}>
            Cancel
          </button>
          <p id="rename-help" className="muted small">
            Leave it empty to let knitter title the thread again.
          </p>
        </form>
      )}
      {rename.isError && (
        <p role="alert" className="error small">
          {rename.error.message}
        </p>
      )}
    </div>
  );
}

function ThreadSummary({ thread }: { thread: TopicThreadRow }) {
  const queryClient = useQueryClient();
  // Summarizing may also retitle the thread: everything about it is fetched again.
  const summarize = useMutation({
    mutationFn: () => summarizeThread(thread.id),
    onSuccess: () => invalidateThreads(queryClient),
  });
  return (
    <SummaryCard
      fields={thread}
      of="thread"
      pending={summarize.isPending}
      error={summarize.error}
      onSummarize={() => summarize.mutate()}
    />
  );
}

function ThreadConversationItem({
  source,
  selected,
  onToggle,
}: {
  source: ThreadSourceRow;
  selected: boolean;
  onToggle: (on: boolean) => void;
}) {
  return (
    <li className="source-row card">
      <input
        type="checkbox"
        className="row-check"
        aria-label={`Select ${source.title}`}
        checked={selected}
        onChange={(e) => onToggle(e.target.checked)}
      />
      <PlatformIcon platform={source.platform} />
      <div className="source-main">
        <SourceHeading source={source} />
        {source.summary && <p className="small source-summary">{source.summary}</p>}
        <TopicChips topics={source.key_topics} />
      </div>
    </li>
  );
}

/** The thread's conversations, and splitting some of them off into a new thread. */
function ThreadConversations({ thread }: { thread: TopicThreadRow }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const sources = useThreadSources(thread.id);
  const [selected, setSelected] = useState<string[]>([]);
  const [newTitle, setNewTitle] = useState("");
  const split = useMutation({
    mutationFn: () => splitTopicThread(thread.id, selected, newTitle.trim() || null),
    onSuccess: async (created) => {
      await invalidateThreads(queryClient);
      navigate(`/threads/${created}`);
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (selected.length > 0) split.mutate();
  }

  return (
    <section aria-labelledby="conversations-title" className="thread-conversations">
      <h2 id="conversations-title">Conversations</h2>
      {sources.isPending && <p aria-busy="true">Loading…</p>}
      {sources.isError && <p role="alert" className="error">{sources.error.message}</p>}
      <ul className="sources" aria-label="Conversations in this thread">
        {sources.data?.map((source) => (
          <ThreadConversationItem
            key={source.id}
            source={source}
            selected={selected.includes(source.id)}
            onToggle={(on) =>
              setSelected((all) => (on ? [...all, source.id] : all.filter((id) => id !== source.id)))
            }
          />
        ))}
      </ul>
      <form className="split-form card" onSubmit={submit} aria-labelledby="split-title">
        <h3 id="split-title" className="small">
          Split off the checked conversations
        </h3>
        <label>
          Title of the new thread (optional)
          <input value={newTitle} maxLength={200} onChange={(e) => setNewTitle(e.target.value)} />
        </label>
        <button type="submit" disabled={selected.length === 0 || split.isPending}>
          {split.isPending ? "Splitting…" : "Split into a new thread"}
        </button>
        <p className="muted small" role="status">
          {selected.length > 0
            ? `${plural(selected.length, "conversation")} checked.`
            : "Check the conversations that belong elsewhere."}
        </p>
        {split.isError && (
          <p role="alert" className="error small">
            {split.error.message}
          </p>
        )}
      </form>
    </section>
  );
}

function ThreadView({ threadId }: { threadId: string }) {
  const thread = useTopicThread(threadId);
  if (thread.isPending) return <p aria-busy="true">Loading the thread…</p>;
  if (thread.isError) return <p role="alert" className="error">{thread.error.message}</p>;
  if (!thread.data) {
    return (
      <section>
        <h1>Not found</h1>
        <p>
          This thread does not exist any more: it may have been merged or regrouped.{" "}
          <Link to="/threads">Back to threads</Link>
        </p>
      </section>
    );
  }
  return (
    <article className="thread-page" aria-labelledby="thread-title">
      <p className="small">
        <Link to={`/threads?workspace=${thread.data.workspace_id}`}>← All threads</Link>
      </p>
      <ThreadTitle thread={thread.data} />
      <ThreadStats thread={thread.data} />
      <ThreadSummary thread={thread.data} />
      <ThreadConversations thread={thread.data} />
    </article>
  );
}

export function ThreadPage() {
  const { threadId = "" } = useParams();
  // A new thread (after a split or merge) starts with nothing checked.
  return <ThreadView key={threadId} threadId={threadId} />;
}
