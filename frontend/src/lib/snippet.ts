/** The API's `snippet` is HTML-escaped text whose only markup is `<mark>`. It is turned into
 * plain segments (never HTML) so nothing from a passage can ever run in the page. */
export interface SnippetSegment {
  text: string;
  marked: boolean;
}

const ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#39;": "'",
  "&#x27;": "'",
  "&#x2F;": "/",
};

export function unescapeHtml(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39|#x27|#x2F);/g, (e) => ENTITIES[e] ?? e);
}

export function snippetSegments(snippet: string): SnippetSegment[] {
  const segments: SnippetSegment[] = [];
  const pattern = /<mark>([\s\S]*?)<\/mark>/g;
  let last = 0;
  for (const match of snippet.matchAll(pattern)) {
    const start = match.index ?? 0;
    if (start > last) segments.push({ text: snippet.slice(last, start), marked: false });
    segments.push({ text: match[1] ?? "", marked: true });
    last = start + match[0].length;
  }
  if (last < snippet.length) segments.push({ text: snippet.slice(last), marked: false });
  return segments
    .map((s) => ({ text: unescapeHtml(s.text.replace(/<\/?mark>/g, "")), marked: s.marked }))
    .filter((s) => s.text.length > 0);
}
