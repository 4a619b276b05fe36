import type { PassageRow } from "./rpc";

export interface MessageGroup {
  messageIndex: number;
  role: string;
  author: string | null;
  model: string | null;
  createdAt: string | null;
  passages: PassageRow[];
}

/** Passages (in reading order) grouped back into the messages they were cut from. */
export function groupMessages(passages: PassageRow[]): MessageGroup[] {
  const groups: MessageGroup[] = [];
  for (const passage of passages) {
    const last = groups[groups.length - 1];
    if (last && last.messageIndex === passage.message_index) {
      last.passages.push(passage);
    } else {
      groups.push({
        messageIndex: passage.message_index,
        role: passage.role,
        author: passage.author,
        model: passage.model,
        createdAt: passage.created_at,
        passages: [passage],
      });
    }
  }
  return groups;
}

export function passageParam(value: string | null): number | null {
  if (!value || !/^\d+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/** The versions of one message the person can page through ("< 2/3 >"): the message
 * itself (branch null: the line it is on) and each other version (a branch of
 * alternatives: the edited or regenerated message with what followed it). */
export interface Versions {
  anchor: number;
  options: { branch: number | null; version: number }[];
  /** Position in options of the version shown. */
  shown: number;
}

export interface ShownMessage {
  message: MessageGroup;
  /** Set on the first message of a place with several versions. */
  versions: Versions | null;
  /** The branch of alternatives it belongs to (null: the branch the person last saw). */
  branch: number | null;
}

function metaNumber(passage: PassageRow, key: string): number | null {
  const meta = passage.metadata as Record<string, unknown> | null;
  const value = meta?.[key];
  return typeof value === "number" && Number.isInteger(value) ? value : null;
}

/** Which branch each alternative passage belongs to, and the message it is a version of. */
export function alternativeOf(passage: PassageRow): { anchor: number; branch: number } | null {
  const anchor = metaNumber(passage, "alternative_of");
  const branch = metaNumber(passage, "branch");
  return anchor === null || branch === null ? null : { anchor, branch };
}

/**
 * The conversation as shown: the branch the person last saw, except where they chose
 * another version (chosen: anchor message index -> branch), which replaces that message
 * and everything after it, as ChatGPT's version control does. Versions can nest.
 */
export function shownMessages(
  current: PassageRow[],
  alternatives: PassageRow[],
  chosen: ReadonlyMap<number, number>,
): ShownMessage[] {
  const branches = new Map<number, PassageRow[]>();
  const options = new Map<number, Versions["options"]>();
  const versionOf = new Map<number, number>();
  for (const passage of [...current, ...alternatives]) {
    const version = metaNumber(passage, "version");
    if (version !== null && passage.chunk_index === 0) versionOf.set(passage.message_index, version);
  }
  for (const passage of alternatives) {
    const alt = alternativeOf(passage);
    if (!alt) continue;
    const rows = branches.get(alt.branch);
    if (rows) {
      rows.push(passage);
      continue;
    }
    branches.set(alt.branch, [passage]);
    const list = options.get(alt.anchor) ?? [{ branch: null, version: versionOf.get(alt.anchor) ?? 1 }];
    list.push({ branch: alt.branch, version: versionOf.get(passage.message_index) ?? list.length + 1 });
    options.set(alt.anchor, list);
  }
  for (const list of options.values()) list.sort((a, b) => a.version - b.version);

  const out: ShownMessage[] = [];
  const walk = (line: MessageGroup[], branch: number | null, entry: Versions | null, depth: number) => {
    for (const [position, message] of line.entries()) {
      const own = options.get(message.messageIndex);
      const choice = chosen.get(message.messageIndex);
      const picked = own && choice !== undefined ? own.findIndex((o) => o.branch === choice) : -1;
      if (own && picked >= 0 && depth < 100) {
        const rows = branches.get(choice as number) ?? [];
        walk(groupMessages(rows), choice as number, { anchor: message.messageIndex, options: own, shown: picked }, depth + 1);
        return;
      }
      let versions: Versions | null = null;
      if (position === 0 && entry) versions = entry;
      else if (own) versions = { anchor: message.messageIndex, options: own, shown: own.findIndex((o) => o.branch === null) };
      out.push({ message, versions, branch });
    }
  };
  walk(groupMessages(current), null, null, 0);
  return out;
}

/** The choices that show a given alternative passage (a search hit on another version). */
export function choicesFor(chunkId: number, alternatives: PassageRow[]): Map<number, number> {
  const chosen = new Map<number, number>();
  const byIndex = new Map(alternatives.map((p) => [p.message_index, p]));
  let passage = alternatives.find((p) => p.chunk_id === chunkId);
  for (let guard = 0; passage && guard < 100; guard++) {
    const alt = alternativeOf(passage);
    if (!alt || chosen.has(alt.anchor)) break;
    chosen.set(alt.anchor, alt.branch);
    passage = byIndex.get(alt.anchor);
  }
  return chosen;
}
