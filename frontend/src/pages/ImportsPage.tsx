import { useQuery } from "@tanstack/react-query";
import { useSession } from "../auth";
import { importHistory } from "../lib/api";
import { historyCounts, historyStatus, plainError } from "../lib/importHistory";
import { isJobActive, jobFiles, jobPhase } from "../lib/importJob";

function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

const GUIDES: { name: string; steps: string }[] = [
  {
    name: "ChatGPT",
    steps:
      "Settings → Data controls → Export data → Confirm export. The e-mailed link downloads a zip: import the zip (or its conversations.json) as it is.",
  },
  {
    name: "Claude",
    steps:
      "Settings → Privacy → Export data. The e-mailed link downloads a zip with conversations.json: import the zip or that file.",
  },
  {
    name: "Gemini (Google Takeout)",
    steps:
      "takeout.google.com → Deselect all → tick “My Activity”, choose only “Gemini Apps” → export. Import the Takeout zip; the MyActivity file inside holds the chats.",
  },
  {
    name: "Coding agents",
    steps:
      "Claude Code keeps its sessions as .jsonl files under ~/.claude/projects/, Codex under ~/.codex/sessions/: import those files, or a zip of the folder, here; or, on the machine that has them, run knitter import ~/.claude/projects (or ~/.codex/sessions).",
  },
];

export function ImportsPage() {
  const userId = useSession().user.id;
  const history = useQuery({
    queryKey: ["imports", userId],
    queryFn: () => importHistory(),
    // While an import runs, its row changes on its own.
    refetchInterval: (query) => ((query.state.data ?? []).some(isJobActive) ? 2000 : false),
  });
  const jobs = history.data ?? [];
  return (
    <section aria-labelledby="imports-title" className="imports-page">
      <h1 id="imports-title">Import history</h1>
      {history.isError && <p role="alert" className="error">{history.error.message}</p>}
      {history.isPending && <p aria-busy="true">Loading…</p>}
      {history.data && jobs.length === 0 && <p className="empty">Nothing imported yet: use Import at the top.</p>}
      <ol className="plain import-history" aria-label="Imports">
        {jobs.map((job) => (
          <li key={job.id} className={`card import-row phase-${jobPhase(job)}`}>
            <p className="import-row-head">
              <strong>{historyStatus(job)}</strong> · <time dateTime={job.created_at}>{when(job.created_at)}</time>
              {" · "}
              {job.items_total === 1 ? "1 file or link" : `${job.items_total} files or links`}
            </p>
            {job.files.length > 0 && (
              <ul className="small import-files" aria-label="Files and links">
                {jobFiles(job).map((name, i) => (
                  <li key={i}>{name}</li>
                ))}
              </ul>
            )}
            <p className="small muted">{historyCounts(job)}</p>
            {job.errors.length > 0 && (
              <ul className="small import-errors" aria-label="Problems">
                {job.errors.map((e, i) => (
                  <li key={i}>
                    <span className="muted">{e.item}</span>: {plainError(e.item, e.message)}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
      <section className="card" aria-labelledby="guides-title">
        <h2 id="guides-title">Getting your conversations out</h2>
        <dl className="guides">
          {GUIDES.map((g) => (
            <div key={g.name}>
              <dt>{g.name}</dt>
              <dd>{g.steps}</dd>
            </div>
          ))}
        </dl>
      </section>
    </section>
  );
}
