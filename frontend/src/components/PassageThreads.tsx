import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSession } from "../auth";
import { askAboutPassage, deleteMicroThread, type MicroThread } from "../lib/api";
import { modelUsed } from "../lib/answer";
import { formatWhen } from "../lib/format";
import { usePassageThreads } from "../lib/queries";
import { CitationList, CitedAnswerText, citedPassages, ModelBadge } from "./CitedAnswer";

/** Only the member who asked may delete a question (the API says 403 to the others). */
function DeleteQuestion({ thread }: { thread: MicroThread }) {
  const userId = useSession().user.id;
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => deleteMicroThread(thread.chunk_id, thread.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["passage-threads", userId, thread.chunk_id] }),
  });
  if (thread.user_id !== userId) return null;
  return (
    <>
      <button
        type="button"
        className="link-button small danger"
        disabled={remove.isPending}
        aria-label={`Delete the question “${thread.question.slice(0, 60)}”`}
        onClick={() => remove.mutate()}
      >
        {remove.isPending ? "Deleting…" : "Delete"}
      </button>
      {remove.isError && (
        <span role="alert" className="error small">
          {" "}
          {remove.error.message}
        </span>
      )}
    </>
  );
}

function MicroThreadItem({ thread }: { thread: MicroThread }) {
  return (
    <li className="micro-thread">
      <p className="micro-question">
        <span className="visually-hidden">Question: </span>
        {thread.question}
      </p>
      <CitedAnswerText answer={thread.answer} citations={thread.citations} />
      <p className="muted small">
        <time dateTime={thread.created_at}>{formatWhen(thread.created_at)}</time> <ModelBadge used={modelUsed(thread.model)} />{" "}
        <DeleteQuestion thread={thread} />
      </p>
      <CitationList citations={citedPassages(thread.answer, thread.citations)} label="Cited passages" />
    </li>
  );
}

function AskAboutPassageForm({ chunkId }: { chunkId: number }) {
  const userId = useSession().user.id;
  const queryClient = useQueryClient();
  const [question, setQuestion] = useState("");
  const ask = useMutation({
    mutationFn: (text: string) => askAboutPassage(chunkId, text),
    onSuccess: async () => {
      setQuestion("");
      await queryClient.invalidateQueries({ queryKey: ["passage-threads", userId, chunkId] });
    },
  });
  const inputId = `question-${chunkId}`;

  function send() {
    if (question.trim() && !ask.isPending) ask.mutate(question.trim());
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    send();
  }

  return (
    <form className="micro-form" onSubmit={submit}>
      <label htmlFor={inputId}>Your question about this passage</label>
      <textarea
        id={inputId}
        rows={2}
        value={question}
        onChange={(e) => setQuestion(e.target.value)}
        onKeyDown={(e) => {
          // Enter asks, Shift+Enter adds a line: the habit of chat boxes.
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <div className="result-actions">
        <button type="submit" className="primary" disabled={!question.trim() || ask.isPending}>
          {ask.isPending ? "Asking…" : "Ask"}
        </button>
        <span role="status" className="muted small">
          {ask.isPending ? "Answering from this passage and the ones around it…" : ""}
        </span>
      </div>
      {ask.isError && (
        <p role="alert" className="error small">
          {ask.error.message}
        </p>
      )}
    </form>
  );
}

function PassageThreadsPanel({ chunkId, id }: { chunkId: number; id: string }) {
  const threads = usePassageThreads(chunkId);
  return (
    <section id={id} className="micro-panel" aria-label="Questions about this passage">
      {threads.isPending && <p className="muted small" aria-busy="true">Loading questions…</p>}
      {threads.isError && (
        <p role="alert" className="error small">
          {threads.error.message}
        </p>
      )}
      {threads.data && threads.data.length > 0 && (
        <ol className="micro-threads" aria-label="Questions asked">
          {threads.data.map((t) => (
            <MicroThreadItem key={t.id} thread={t} />
          ))}
        </ol>
      )}
      <AskAboutPassageForm chunkId={chunkId} />
    </section>
  );
}

/** "Ask about this passage": follow-up questions kept with one passage. */
export function PassageThreads({ chunkId }: { chunkId: number }) {
  const [open, setOpen] = useState(false);
  const panelId = `micro-${chunkId}`;
  return (
    <div className="passage-tools">
      <button
        type="button"
        className="link-button small"
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        {open ? "Hide questions" : "Ask about this passage"}
      </button>
      {open && <PassageThreadsPanel chunkId={chunkId} id={panelId} />}
    </div>
  );
}
