import type { ImportFailure, ImportItemReport, ImportJob } from "./api";
import { count, formatBytes, plural } from "./format";

export type UploadPhase = "waiting" | "uploading" | "importing" | "embedding" | "done" | "failed";

/** Still changing on its own: importing, or embedding what it added (a failed job is done,
 * whatever is left in its queue). */
export function isJobActive(job: ImportJob): boolean {
  const phase = jobPhase(job);
  return phase === "importing" || phase === "embedding";
}

export function jobPhase(job: ImportJob): UploadPhase {
  // Interrupted: the server stopped mid-way; its errors say what was not imported.
  if (job.status === "failed" || job.status === "interrupted") return "failed";
  if (job.status === "queued" || job.status === "running") return "importing";
  if (job.failed > 0 && job.added + job.updated + job.skipped === 0) return "failed";
  return job.embedding_pending > 0 || job.meaning_pending > 0 ? "embedding" : "done";
}

/** 0..1: the upload is the first fifth, the import the rest. */
export function overallProgress(uploadFraction: number, job: ImportJob | null): number {
  if (!job) return Math.min(Math.max(uploadFraction, 0), 1) * 0.2;
  if (job.status !== "queued" && job.status !== "running") return 1;
  const share = job.items_total > 0 ? job.items_done / job.items_total : 0;
  return 0.2 + 0.8 * Math.min(Math.max(share, 0), 1);
}

/** The word for a job's row, from its phase: a failed job never says "Importing". */
export function phaseWord(phase: UploadPhase): string {
  return { waiting: "Waiting", uploading: "Uploading", importing: "Importing", embedding: "Embedding", done: "Done", failed: "Failed" }[phase];
}

/** What a job was given, each file told apart by size ("conversations.json · 2.1 MB"). */
export function jobFiles(job: ImportJob): string[] {
  return job.files.map((f) => (f.size === null ? f.name : `${f.name} · ${formatBytes(f.size)}`));
}

/** `skipped` counts what knitter already had and what had nothing to import; only the
 * latter say why (each item's `skips`), so the two are told apart, as `knitter import` does. */
function skippedCounts(job: ImportJob): { already: number; skipped: number } {
  const skipped = (job.items ?? []).reduce((n, item) => n + item.skips.length, 0);
  return { already: Math.max(job.skipped - skipped, 0), skipped };
}

/** "3 added", then the updated, already imported, skipped and failed there are: the counts
 * as `knitter import` words them (api/cli.py). */
export function jobCounts(job: ImportJob): string[] {
  const { already, skipped } = skippedCounts(job);
  const counts: [string, number][] = [
    ["updated", job.updated],
    ["already imported", already],
    ["skipped", skipped],
    ["failed", job.failed],
  ];
  return [`${count(job.added)} added`, ...counts.filter(([, n]) => n).map(([label, n]) => `${count(n)} ${label}`)];
}

export function jobSummary(job: ImportJob): string {
  let text = `${jobCounts(job).join(", ")}; ${plural(job.passages, "passage")}`;
  const stages = indexingStages(job);
  if (stages && jobPhase(job) === "embedding") text += ` (${stages})`;
  return text;
}

/** The two stages of meaning search while they run: every passage gets a fast vector
 * within seconds, the full-quality one follows in the background. The queue counts are the
 * workspace's, so a job's own passages are what it is capped at. Null when both are done. */
export function indexingStages(job: ImportJob): string | null {
  const meaningPending = job.meaning_pending;
  if (job.embedding_pending <= 0 && meaningPending <= 0) return null;
  const total = job.passages;
  const ready = (pending: number) => count(Math.max(total - Math.min(pending, total), 0));
  const all = count(total);
  return `searchable by meaning: ${ready(meaningPending)} / ${all} · full quality: ${ready(job.embedding_pending)} / ${all}`;
}

/** How the report names what was left out, by the importers' kind (one, several), as
 * `knitter import` names them (api/cli.py). */
const LEFT_OUT_WORDS: Record<string, [string, string]> = {
  plumbing: ["hidden tool or system message", "hidden tool and system messages"],
  reasoning: ["reasoning step", "reasoning steps"],
  images: ["image", "images"],
  files: ["attached file", "attached files"],
  audio: ["audio clip", "audio clips"],
};

function leftOut(kind: string, n: number): string {
  const [one, several] = LEFT_OUT_WORDS[kind] ?? [kind, kind];
  return plural(n, one, several);
}

/** What one uploaded file gave, as `knitter import` prints it: the format, the messages
 * kept, what was left out by kind and the export's side files. */
export function itemReport(item: ImportItemReport): string {
  const parts = [item.formats.join(" + ") || "nothing imported"];
  if (item.messages) {
    let kept = `${plural(item.messages, "message")} kept`;
    if (item.alternatives) kept += ` (and ${plural(item.alternatives, "other version")} of them)`;
    parts.push(kept);
  }
  const kinds = Object.entries(item.left_out).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (kinds.length) parts.push(`left out: ${kinds.map(([kind, n]) => leftOut(kind, n)).join(", ")}`);
  if (item.side_files) parts.push(`ignored: ${plural(item.side_files, "side file")}`);
  return parts.join("; ");
}

/** What of an uploaded file or link failed, as `knitter import` says it (`within` in
 * api/pipeline/ingest.py): only why when it is the file itself, whose name the item
 * shows already; else what inside it, "conversations.json: not valid JSON". */
export function failureText(failure: ImportFailure): string {
  const named = failure.origin || failure.item;
  if (failure.item === named) return failure.message;
  const inner = failure.item.startsWith(named) ? failure.item.slice(named.length).replace(/^[:/, ]+/, "") : failure.item;
  return `${inner}: ${failure.message}`;
}
