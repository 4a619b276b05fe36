import type { SnippetSegment } from "./snippet";

const STOP_WORDS = new Set(["a", "an", "and", "the", "of", "to", "in", "on", "or", "is", "it", "my", "i", "for", "how", "do", "what"]);

/** The search's words as patterns: long words match by their stem-like prefix ("smells"
 * finds "smell"), as the keyword search stems them; operators and short stop words never. */
export function queryTerms(query: string): RegExp | null {
  const words = query
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 1 && !STOP_WORDS.has(w) && w !== "or");
  if (words.length === 0) return null;
  const patterns = [...new Set(words)].map((w) => {
    const stem = w.length > 5 ? w.slice(0, w.length - 2) : w;
    return `${stem.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[\\p{L}\\p{N}]*`;
  });
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${patterns.join("|")})`, "giu");
}

/** Plain text split into segments, the search's words marked (text only: never HTML). */
export function highlightTerms(text: string, query: string): SnippetSegment[] {
  const pattern = queryTerms(query);
  if (!pattern) return text ? [{ text, marked: false }] : [];
  const segments: SnippetSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const start = match.index ?? 0;
    if (start > last) segments.push({ text: text.slice(last, start), marked: false });
    segments.push({ text: match[0], marked: true });
    last = start + match[0].length;
  }
  if (last < text.length) segments.push({ text: text.slice(last), marked: false });
  return segments;
}
