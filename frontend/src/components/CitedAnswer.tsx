import { useCallback, useMemo } from "react";
import { Link } from "react-router-dom";
import type { Citation } from "../lib/api";
import { answerSegments, citedNumbers, excerpt, type ModelUsed } from "../lib/answer";
import { formatWhen } from "../lib/format";
import { passagePath } from "../lib/links";
import { AnswerMarkdown } from "./Markdown";
import { PlatformIcon, platformName } from "./PlatformIcon";

function CitationLink({ citation }: { citation: Citation }) {
  return (
    <Link
      to={passagePath(citation)}
      className="cite"
      aria-label={`Passage ${citation.n}: ${citation.source_title}`}
      title={citation.source_title}
    >
      [{citation.n}]
    </Link>
  );
}

/** The answer's Markdown, each "[n]" a link to the conversation at passage n. */
export function CitedAnswerText({ answer, citations }: { answer: string; citations: Citation[] }) {
  const byNumber = useMemo(() => new Map(citations.map((c) => [c.n, c])), [citations]);
  const known = useMemo(() => new Set(byNumber.keys()), [byNumber]);
  const cite = useCallback((n: number) => <CitationLink citation={byNumber.get(n)!} />, [byNumber]);
  return (
    <div className="answer-text markdown">
      <AnswerMarkdown text={answer} known={known} cite={cite} />
    </div>
  );
}

/** The cited passages of an answer, in the order the answer cites them. */
export function citedPassages(answer: string, citations: Citation[]): Citation[] {
  const byNumber = new Map(citations.map((c) => [c.n, c]));
  return citedNumbers(answerSegments(answer, byNumber.keys())).flatMap((n) => byNumber.get(n) ?? []);
}

export function CitationList({ citations, label }: { citations: Citation[]; label: string }) {
  if (citations.length === 0) return null;
  return (
    <ol className="citations" aria-label={label}>
      {citations.map((c) => (
        <li key={c.n} value={c.n} className="citation">
          <div className="citation-head">
            <span className="cite-number" aria-hidden="true">
              {c.n}
            </span>
            <PlatformIcon platform={c.platform} />
            <Link to={passagePath(c)} className="result-title">
              {c.source_title}
            </Link>
            <span className="muted small">
              {platformName(c.platform)} · {c.role} · {formatWhen(c.created_at)}
            </span>
          </div>
          <p className="snippet small">{excerpt(c.content)}</p>
        </li>
      ))}
    </ol>
  );
}

/** Who wrote it: a named model, or nobody (the extractive fallback says so plainly). */
export function ModelBadge({ used }: { used: ModelUsed }) {
  if (used.extractive) return <span className="badge extractive">No language model was used</span>;
  if (!used.label) return null;
  return <span className="badge">Written by {used.label}</span>;
}
