import type { TopicThreadRow, WorkspaceRow } from "./rpc";
import { formatWhen } from "./format";

export const UNTITLED = "Untitled thread";

/** A pending title is one knitter has not written yet: say so rather than show a blank. */
export function threadTitle(thread: Pick<TopicThreadRow, "title" | "title_source">): string {
  const title = thread.title?.trim() ?? "";
  return title && thread.title_source !== "pending" ? title : UNTITLED;
}

export const SIMILARITY_MIN = 0.05;
export const SIMILARITY_MAX = 0.95;
export const SIMILARITY_STEP = 0.05;

/** Within the range the API accepts, on the slider's steps (floating point kept tidy). */
export function clampSimilarity(value: number): number {
  if (!Number.isFinite(value)) return 0.5;
  const stepped = Math.round(value / SIMILARITY_STEP) * SIMILARITY_STEP;
  return Number(Math.min(SIMILARITY_MAX, Math.max(SIMILARITY_MIN, stepped)).toFixed(2));
}

/** "Mar 3 – Apr 5", or one day when both ends fall on it. */
export function activityRange(first: string | null, last: string | null, now: Date = new Date()): string {
  const from = formatWhen(first, now);
  const to = formatWhen(last, now);
  if (!first && !last) return "undated";
  if (!first || from === to) return to;
  if (!last) return from;
  return `${from} – ${to}`;
}

/** The workspace a page starts in: the one asked for if the caller has it, else the personal one. */
export function pickWorkspace(workspaces: WorkspaceRow[], wanted: string | null): WorkspaceRow | null {
  return (
    workspaces.find((w) => w.id === wanted) ??
    workspaces.find((w) => w.is_personal) ??
    workspaces[0] ??
    null
  );
}
