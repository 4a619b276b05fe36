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
