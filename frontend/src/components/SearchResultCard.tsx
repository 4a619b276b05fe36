import { useState } from "react";
import { Link } from "react-router-dom";
import type { SearchResult } from "../lib/api";
import { formatScore, formatWhen } from "../lib/format";
import { passagePath } from "../lib/links";
import { HighlightedSnippet } from "./HighlightedSnippet";
import { PlatformIcon } from "./PlatformIcon";

export function SearchResultCard({ result }: { result: SearchResult }) {
  const [copied, setCopied] = useState<string | null>(null);
  const path = passagePath(result);

  async function copy(text: string, what: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
    } catch {
      setCopied("Copy failed");
    }
    setTimeout(() => setCopied(null), 1500);
  }

  return (
    <li className="result card">
      <div className="result-head">
        <PlatformIcon platform={result.platform} />
        <Link to={path} className="result-title">
          {result.source_title}
        </Link>
        <span className="muted small">
          {result.role} · <time dateTime={result.created_at ?? undefined}>{formatWhen(result.created_at)}</time>
        </span>
        <span className="score small" title="Fused score (reciprocal rank)">
          {formatScore(result.score)}
        </span>
      </div>
      <HighlightedSnippet snippet={result.snippet} />
      <div className="result-actions">
        <button type="button" onClick={() => void copy(result.content, "Passage copied")}>
          Copy
        </button>
        <button type="button" onClick={() => void copy(new URL(path, window.location.origin).href, "Link copied")}>
          Share link
        </button>
        <Link to={path} className="button">
          Open in context
        </Link>
        {copied && (
          <span role="status" className="muted small">
            {copied}
          </span>
        )}
      </div>
    </li>
  );
}
