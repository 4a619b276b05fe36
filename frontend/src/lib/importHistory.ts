import type { ImportJob } from "./api";
import { plural } from "./format";
import { indexingStages, jobCounts, jobPhase, type UploadPhase } from "./importJob";

const PHASE_LABELS: Record<UploadPhase, string> = {
  waiting: "Waiting",
  uploading: "Uploading",
  importing: "Importing…",
  embedding: "Indexing for meaning search…",
  done: "Done",
  failed: "Failed",
};

/** A history row's status: a job that failed says so, whatever its counts. */
export function historyStatus(job: ImportJob): string {
  if (job.status === "succeeded" && job.failed > 0 && job.added + job.updated + job.skipped > 0) {
    return "Done, with failures";
  }
  return PHASE_LABELS[jobPhase(job)];
}

/** An importer's error in plain words: without the item's name repeated in front (the row
 * shows it) and without errno codes such as "[Errno -2]". */
export function plainError(item: string, message: string): string {
  let text = message.replace(/\[Errno -?\d+\]\s*/g, "").trim();
  for (const prefix of [`${item}: `, `${item.split("/").pop() ?? item}: `]) {
    if (text.startsWith(prefix)) text = text.slice(prefix.length);
  }
  return text ? text[0]!.toUpperCase() + text.slice(1) : "Unknown error";
}

/** What an import left out or could not read, counted for the row. */
export function historyCounts(job: ImportJob): string {
  let text = `${jobCounts(job).join(" · ")} · ${plural(job.passages, "passage")}`;
  // This job's own passages still waiting, not the workspace's.
  const stages = indexingStages(job);
  if (stages && jobPhase(job) === "embedding") text += ` · ${stages}`;
  return text;
}
