import { snippetSegments } from "../lib/snippet";

export function HighlightedSnippet({ snippet }: { snippet: string }) {
  return (
    <p className="snippet">
      {snippetSegments(snippet).map((segment, i) =>
        segment.marked ? <mark key={i}>{segment.text}</mark> : <span key={i}>{segment.text}</span>,
      )}
    </p>
  );
}
