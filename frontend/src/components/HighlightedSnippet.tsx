import { PassageMarkdown } from "./Markdown";

/** A search result's snippet: its Markdown rendered safely, the matched words marked. */
export function HighlightedSnippet({ snippet, content }: { snippet: string; content?: string }) {
  return (
    <div className="snippet markdown">
      <PassageMarkdown snippet={snippet} content={content} />
    </div>
  );
}
