import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from "react";
import { importJob, importLinks, uploadFile, type ImportJob } from "../lib/api";
import { formatBytes } from "../lib/format";
import { failureText, isJobActive, itemReport, jobPhase, jobSummary, overallProgress, phaseWord } from "../lib/importJob";
import { MAX_LINKS, linkKind, parseLinks } from "../lib/links";

interface ImportItem {
  key: string;
  label: string;
  detail: string;
  uploaded: number; // 0..1
  jobId: string | null;
  error: string | null;
}

let counter = 0;

function ImportItemRow({ item }: { item: ImportItem }) {
  const queryClient = useQueryClient();
  const job = useQuery({
    queryKey: ["import-job", item.jobId],
    queryFn: () => importJob(item.jobId as string),
    enabled: item.jobId !== null,
    refetchInterval: (query) => {
      const data = query.state.data as ImportJob | undefined;
      return !data || isJobActive(data) ? 700 : false;
    },
  });
  const data = job.data ?? null;
  const phase = item.error ? "failed" : data ? jobPhase(data) : item.uploaded < 1 ? "uploading" : "importing";
  const finished = data !== null && !isJobActive(data);
  const when = data ? new Date(data.created_at).toLocaleTimeString(undefined, { timeStyle: "short" }) : null;
  // Sources and results change when the import ends and again when embedding ends.
  const milestone = data ? `${data.status}:${data.embedding_pending === 0}` : null;
  useEffect(() => {
    if (milestone && !milestone.startsWith("queued") && !milestone.startsWith("running")) {
      void queryClient.invalidateQueries({ queryKey: ["sources"] });
      void queryClient.invalidateQueries({ queryKey: ["search"] });
    }
  }, [milestone, queryClient]);
  const percent = Math.round((item.error ? 1 : overallProgress(item.uploaded, data)) * 100);
  return (
    <li className={`import-item phase-${phase}`}>
      <div className="import-item-head">
        <span className="import-name">{item.label}</span>
        <span className="muted small">
          {item.detail}
          {when ? ` · ${when}` : ""}
        </span>
      </div>
      <progress max={100} value={percent} aria-label={`${item.label}: ${phase}`}>
        {percent}%
      </progress>
      <p className="small" aria-live="polite">
        {item.error ? (
          <span className="error">{item.error}</span>
        ) : job.error ? (
          <span className="error">{job.error.message}</span>
        ) : data ? (
          <>
            <span className="status">{phaseWord(phase)}</span>
            {": "}
            {jobSummary(data)}
          </>
        ) : (
          `Uploading… ${Math.round(item.uploaded * 100)}%`
        )}
      </p>
      {finished && data.items && data.items.length > 0 && (
        <ul className="item-reports">
          {data.items.map((report) => (
            <li key={report.item} className="muted small">
              {data.items && data.items.length > 1 ? `${report.item}: ` : ""}
              {itemReport(report)}
              {report.skips.length > 0 && (
                <ul className="item-skips">
                  {report.skips.map((why, i) => (
                    <li key={i}>skipped: {why}</li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
      {data && data.errors.length > 0 && (
        <ul className="item-errors">
          {data.errors.map((e, i) => (
            <li key={i} className="error small">
              {data.items && data.items.length > 1 ? `${e.origin || e.item}: ` : ""}
              {failureText(e)}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

export function ImportDialog({ onClose }: { onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [items, setItems] = useState<ImportItem[]>([]);
  const [links, setLinks] = useState("");
  const [linkError, setLinkError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const node = dialog.current;
    if (node && !node.open) node.showModal();
  }, []);

  const update = (key: string, change: Partial<ImportItem>) =>
    setItems((all) => all.map((it) => (it.key === key ? { ...it, ...change } : it)));

  async function addFiles(files: File[]) {
    const fresh = files.map((file) => ({
      file,
      item: {
        key: `f${(counter += 1)}`,
        label: file.name,
        detail: formatBytes(file.size),
        uploaded: 0,
        jobId: null,
        error: null,
      } satisfies ImportItem,
    }));
    setItems((all) => [...all, ...fresh.map((f) => f.item)]);
    for (const { file, item } of fresh) {
      try {
        const job = await uploadFile(file, (fraction) => update(item.key, { uploaded: fraction }));
        update(item.key, { uploaded: 1, jobId: job.id });
      } catch (error) {
        update(item.key, { error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  async function submitLinks(event: FormEvent) {
    event.preventDefault();
    const { urls, invalid } = parseLinks(links);
    if (invalid.length > 0) {
      setLinkError(`Not a web address: ${invalid.join(", ")}`);
      return;
    }
    if (urls.length === 0) {
      setLinkError("Paste a share link, a YouTube link or a web page address.");
      return;
    }
    if (urls.length > MAX_LINKS) {
      setLinkError(`At most ${MAX_LINKS} links at once.`);
      return;
    }
    setLinkError(null);
    const item: ImportItem = {
      key: `l${(counter += 1)}`,
      label: urls.length === 1 ? (urls[0] as string) : `${urls.length} links`,
      detail: [...new Set(urls.map(linkKind))].join(", "),
      uploaded: 1,
      jobId: null,
      error: null,
    };
    setItems((all) => [...all, item]);
    setLinks("");
    try {
      const job = await importLinks(urls);
      update(item.key, { jobId: job.id });
    } catch (error) {
      update(item.key, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    const files = [...event.dataTransfer.files];
    if (files.length) void addFiles(files);
  }

  return (
    <dialog ref={dialog} className="import-dialog" aria-labelledby="import-title" onClose={onClose}>
      <div className="dialog-head">
        <h2 id="import-title">Import</h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={() => dialog.current?.close()}>
          ×
        </button>
      </div>
      <div
        className={dragging ? "drop-zone dragging" : "drop-zone"}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drop exports, zips, PDFs or notes here</p>
        <label className="button">
          Choose files
          <input
            type="file"
            multiple
            className="visually-hidden"
            aria-label="Files to import"
            onChange={(e) => {
              const files = [...(e.target.files ?? [])];
              e.target.value = "";
              if (files.length) void addFiles(files);
            }}
          />
        </label>
        <p className="muted small">ChatGPT, Claude and Gemini exports (.json or .zip), PDFs, Markdown, text, HTML.</p>
      </div>
      <form className="stack" onSubmit={(e) => void submitLinks(e)}>
        <label>
          Or paste links (ChatGPT share, YouTube, web page)
          <textarea
            rows={2}
            value={links}
            onChange={(e) => setLinks(e.target.value)}
            placeholder="https://chatgpt.com/share/…"
            aria-invalid={linkError !== null}
            aria-describedby={linkError ? "link-error" : undefined}
          />
        </label>
        {linkError && (
          <p id="link-error" role="alert" className="error small">
            {linkError}
          </p>
        )}
        <button type="submit">Import links</button>
      </form>
      {items.length > 0 && (
        <ul className="import-items" aria-label="Imports">
          {items.map((item) => (
            <ImportItemRow key={item.key} item={item} />
          ))}
        </ul>
      )}
    </dialog>
  );
}
