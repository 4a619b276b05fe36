import type { SearchResult } from "./api";
import { count } from "./format";

/** One conversation in the results: its best passage first, the others it matched after,
 * in the API's order (best first). */
export interface ConversationHit {
  sourceId: string;
  best: SearchResult;
  more: SearchResult[];
}

export function groupByConversation(results: SearchResult[]): ConversationHit[] {
  const groups = new Map<string, ConversationHit>();
  for (const result of results) {
    const group = groups.get(result.source_id);
    if (group) group.more.push(result);
    else groups.set(result.source_id, { sourceId: result.source_id, best: result, more: [] });
  }
  return [...groups.values()];
}

/** What the status line says while passages wait for their embedding. */
export function indexingNotice(pending: number): string | null {
  if (pending <= 0) return null;
  const what = pending === 1 ? "1 conversation is" : `${count(pending)} conversations are`;
  return `${what} still being indexed for meaning search; the results refresh when it is done.`;
}
