import { useState } from "react";
import { Link } from "react-router-dom";
import type { SearchResult } from "../lib/api";
import { formatWhen, plural } from "../lib/format";
import type { ConversationHit } from "../lib/grouping";
import { passagePath } from "../lib/links";
import { HighlightedSnippet } from "./HighlightedSnippet";
import { PlatformIcon } from "./PlatformIcon";

/** Where "Back to results" returns to: this search, with its query and filters. */
export interface ResultsOrigin {
  from: string;
}

function PassageMeta({ result }: { result: SearchResult }) {
  return (
    <span className="muted small">
      {result.role} · <time dateTime={result.created_at ?? undefined}>{formatWhen(result.created_at)}</time>
    </span>
  );
}

/** One conversation: its best passage, and the other passages it matched behind a toggle. */
export function SearchResultCard({
  hit,
  query,
  origin,
}: {
  hit: ConversationHit;
  query: string;
  origin: ResultsOrigin;
}) {
  const [copied, setCopied] = useState<string | null>(null);
  const [expanded, setExpanded] = useState(false);
  const result = hit.best;
  const path = passagePath(result, query);
  const moreId = `more-${result.chunk_id}`;

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
        <Link to={path} state={origin} className="result-title" data-result-link="">
          {result.source_title}
        </Link>
        <PassageMeta result={result} />
      </div>
      <HighlightedSnippet snippet={result.snippet} content={result.content} />
      <div className="result-actions">
        <button type="button" onClick={() => void copy(result.content, "Passage copied")}>
          Copy
        </button>
        <button type="button" onClick={() => void copy(new URL(passagePath(result), window.location.origin).href, "Link copied")}>
          Share link
        </button>
        <Link to={path} state={origin} className="button">
          Open in context
        </Link>
        {hit.more.length > 0 && (
          <button type="button" aria-expanded={expanded} aria-controls={moreId} onClick={() => setExpanded((e) => !e)}>
            {expanded ? "Fewer" : `${plural(hit.more.length, "more passage")} in this conversation`}
          </button>
        )}
        {copied && (
          <span role="status" className="muted small">
            {copied}
          </span>
        )}
      </div>
      {hit.more.length > 0 && (
        <ol id={moreId} className="more-passages" hidden={!expanded} aria-label={`More in ${result.source_title}`}>
          {hit.more.map((other) => (
            <li key={other.chunk_id}>
              <Link to={passagePath(other, query)} state={origin} className="small">
                <PassageMeta result={other} />
              </Link>
              <HighlightedSnippet snippet={other.snippet} content={other.content} />
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}
