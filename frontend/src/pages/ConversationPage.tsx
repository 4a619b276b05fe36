import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useLocation, useParams, useSearchParams } from "react-router-dom";
import { useSession } from "../auth";
import { PassageMarkdown } from "../components/Markdown";
import { PackActions } from "../components/PackActions";
import { PassageThreads } from "../components/PassageThreads";
import { PlatformIcon, platformName } from "../components/PlatformIcon";
import { ProjectLink } from "../components/SourceHeading";
import { SummaryCard } from "../components/SummaryCard";
import { summarizeSource } from "../lib/api";
import { choicesFor, passageParam, shownMessages, type Versions } from "../lib/conversation";
import { formatWhen, plural } from "../lib/format";
import { originalAt } from "../lib/links";
import { assistantLabel, assistantUrl } from "../lib/projects";
import { invalidateThreads, useSourceDetails, useSources } from "../lib/queries";
import { sourceAlternatives, sourcePassages } from "../lib/rpc";
import { UNTITLED } from "../lib/threads";

/** The custom GPT or Gem the chat was with; a custom GPT known only by id links to its page. */
function AssistantName({ platform, assistant }: { platform: string; assistant: string | null }) {
  const label = assistantLabel(platform, assistant);
  const url = assistantUrl(platform, assistant);
  return url ? (
    <a href={url} target="_blank" rel="noreferrer noopener">
      {label}
    </a>
  ) : (
    <>{label}</>
  );
}

function ThreadLink({ sourceId }: { sourceId: string }) {
  const details = useSourceDetails(sourceId).data;
  if (!details) return null;
  return (
    <p className="muted small thread-link">
      {details.thread_id ? (
        <>
          Topic thread:{" "}
          <Link to={`/threads/${details.thread_id}`}>{details.thread_title?.trim() || UNTITLED}</Link>
        </>
      ) : (
        "Not in a topic thread yet: conversations are grouped once their passages are embedded."
      )}
    </p>
  );
}

function SourceSummary({ sourceId }: { sourceId: string }) {
  const queryClient = useQueryClient();
  const details = useSourceDetails(sourceId);
  const summarize = useMutation({
    mutationFn: () => summarizeSource(sourceId),
    onSuccess: () => invalidateThreads(queryClient),
  });
  if (!details.data) {
    return details.isError ? <p role="alert" className="error small">{details.error.message}</p> : null;
  }
  return (
    <SummaryCard
      fields={details.data}
      of="conversation"
      pending={summarize.isPending}
      error={summarize.error}
      onSummarize={() => summarize.mutate()}
    />
  );
}

/** "2 other versions" and ChatGPT's "< 2/3 >": pages through the versions of a message. */
function VersionControl({ versions, onPick }: { versions: Versions; onPick: (branch: number | null) => void }) {
  const { options, shown } = versions;
  const others = options.length - 1;
  const go = (step: number) => {
    const option = options[shown + step];
    if (option) onPick(option.branch);
  };
  return (
    <nav className="versions small" aria-label="Versions of this message">
      <span className="muted">
        {others} other version{others === 1 ? "" : "s"} ·{" "}
      </span>
      <button type="button" className="link-button" aria-label="Previous version" disabled={shown <= 0} onClick={() => go(-1)}>
        ‹
      </button>
      <span aria-live="polite">
        {" "}
        Version {shown + 1} of {options.length}
        {options[shown]?.branch === null ? "" : " (not the one last seen)"}{" "}
      </span>
      <button
        type="button"
        className="link-button"
        aria-label="Next version"
        disabled={shown >= options.length - 1}
        onClick={() => go(1)}
      >
        ›
      </button>
    </nav>
  );
}

export function ConversationPage() {
  const { sourceId = "" } = useParams();
  const [params] = useSearchParams();
  const target = passageParam(params.get("passage"));
  const query = params.get("q") ?? "";
  const location = useLocation();
  const backTo = (location.state as { from?: string } | null)?.from;
  // The summary card above the passages loads on its own: scroll again once it is there,
  // or it pushes the opened passage below the fold.
  const detailsLoaded = useSourceDetails(sourceId).isFetched;
  const userId = useSession().user.id;
  const passages = useQuery({
    queryKey: ["passages", userId, sourceId],
    queryFn: () => sourcePassages(sourceId),
  });
  const alternatives = useQuery({
    queryKey: ["alternatives", userId, sourceId],
    queryFn: () => sourceAlternatives(sourceId),
  });
  const source = useSources().data?.find((s) => s.id === sourceId);
  // Which version the person picked at each message with several (anchor -> branch); a
  // link to a passage of another version opens that version.
  const [chosen, setChosen] = useState<Map<number, number> | null>(null);
  const altRows = alternatives.data ?? [];
  const picks = chosen ?? (target !== null ? choicesFor(target, altRows) : new Map<number, number>());
  const pick = (anchor: number, branch: number | null) => {
    const next = new Map(picks);
    if (branch === null) next.delete(anchor);
    else next.set(anchor, branch);
    setChosen(next);
  };

  useEffect(() => {
    if (target === null || !passages.data) return;
    const node = document.getElementById(`passage-${target}`);
    if (node) {
      node.scrollIntoView({ block: "center" });
      node.focus({ preventScroll: true });
    }
  }, [target, passages.data, alternatives.data, detailsLoaded]);

  if (passages.isPending) return <p aria-busy="true">Loading the conversation…</p>;
  if (passages.isError) return <p role="alert" className="error">{passages.error.message}</p>;
  if (passages.data.length === 0) {
    return (
      <section>
        <h1>Not found</h1>
        <p>This source does not exist or was deleted. <Link to="/sources">Back to sources</Link></p>
      </section>
    );
  }
  const targetPassage = [...passages.data, ...altRows].find((p) => p.chunk_id === target) ?? null;
  const original = source ? originalAt(source.url, targetPassage?.metadata ?? null) : null;
  return (
    <article className="conversation" aria-labelledby="conversation-title">
      {backTo?.startsWith("/search") && (
        <p className="back-link">
          <Link to={backTo}>← Back to results</Link>
        </p>
      )}
      <header className="conversation-head">
        {source && <PlatformIcon platform={source.platform} />}
        <div>
          <h1 id="conversation-title">{source?.title ?? "Conversation"}</h1>
          {source && (
            <p className="muted small">
              {platformName(source.platform)} · {formatWhen(source.started_at ?? source.imported_at)} ·{" "}
              {plural(source.passages - altRows.length, "passage")}
              {altRows.length > 0 && ` (and ${altRows.length} in other versions)`}
              {assistantLabel(source.platform, source.assistant) && (
                <>
                  {" · "}
                  <AssistantName platform={source.platform} assistant={source.assistant} />
                </>
              )}
              {source.project_id && (
                <>
                  {" · "}
                  <ProjectLink source={source} />
                </>
              )}
              {original && (
                <>
                  {" · "}
                  <a href={original} target="_blank" rel="noreferrer noopener">
                    Open the original
                  </a>
                </>
              )}
            </p>
          )}
          <ThreadLink sourceId={sourceId} />
          <PackActions conversationId={sourceId} />
        </div>
      </header>
      <SourceSummary sourceId={sourceId} />
      {shownMessages(passages.data, altRows, picks).map(({ message, versions, branch }) => (
        <section
          key={message.messageIndex}
          className={`message role-${message.role}${branch === null ? "" : " other-version"}`}
          aria-label={`${message.role} message`}
        >
          {versions && <VersionControl versions={versions} onPick={(b) => pick(versions.anchor, b)} />}
          <p className="message-role small">
            {message.author ?? `${message.role.charAt(0).toUpperCase()}${message.role.slice(1)}`}
            {message.model ? ` · ${message.model}` : ""}
            {message.createdAt ? ` · ${formatWhen(message.createdAt)}` : ""}
          </p>
          {message.passages.map((p) => (
            <div key={p.chunk_id} className="passage-block">
              <div
                id={`passage-${p.chunk_id}`}
                tabIndex={-1}
                className={p.chunk_id === target ? "passage markdown target" : "passage markdown"}
                aria-current={p.chunk_id === target ? "true" : undefined}
              >
                <PassageMarkdown text={p.content} query={query} />
              </div>
              <PassageThreads chunkId={p.chunk_id} />
            </div>
          ))}
        </section>
      ))}
    </article>
  );
}
