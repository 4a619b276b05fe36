/** Answers cite passages as "[n]": the text is cut into plain runs and citation numbers so
 * each number can become a link, and never rendered as HTML. */
export type AnswerSegment = { kind: "text"; text: string } | { kind: "cite"; n: number };

const CITE = /\[(\d{1,3})\]/g; // the API's own pattern (api/answers/answering.py)

/** Only numbers of known passages become citations; anything else stays text. */
export function answerSegments(answer: string, known: Iterable<number>): AnswerSegment[] {
  const numbers = new Set(known);
  const segments: AnswerSegment[] = [];
  const text = (value: string) => {
    if (!value) return;
    const last = segments[segments.length - 1];
    if (last?.kind === "text") last.text += value;
    else segments.push({ kind: "text", text: value });
  };
  let at = 0;
  for (const match of answer.matchAll(CITE)) {
    const n = Number(match[1]);
    text(answer.slice(at, match.index));
    if (numbers.has(n)) segments.push({ kind: "cite", n });
    else text(match[0]);
    at = match.index + match[0].length;
  }
  text(answer.slice(at));
  return segments;
}

/** The numbers the segments cite, in order of first citation (as the API's `cited`). */
export function citedNumbers(segments: AnswerSegment[]): number[] {
  const seen: number[] = [];
  for (const s of segments) if (s.kind === "cite" && !seen.includes(s.n)) seen.push(s.n);
  return seen;
}

export interface ModelUsed {
  extractive: boolean;
  label: string | null; // "openai · gpt-4o-mini"
}

/** Reads the stored "provider:model" (or "extractive") of a micro-thread or a summary. */
export function modelUsed(model: string | null): ModelUsed {
  if (!model) return { extractive: false, label: null };
  if (model === "extractive") return { extractive: true, label: null };
  const colon = model.indexOf(":");
  return {
    extractive: false,
    label: colon === -1 ? model : `${model.slice(0, colon)} · ${model.slice(colon + 1)}`,
  };
}

/** Reads the `done` event of /v1/ask. */
export function askModelUsed(done: { extractive: boolean; provider: string | null; model: string | null }): ModelUsed {
  if (done.extractive) return { extractive: true, label: null };
  const label = [done.provider, done.model].filter(Boolean).join(" · ");
  return { extractive: false, label: label || null };
}

/** The start of a passage for a list: whole words, at most `max` characters. */
export function excerpt(content: string, max = 240): string {
  const flat = content.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
