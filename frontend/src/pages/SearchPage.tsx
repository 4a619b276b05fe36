import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useLocation, useSearchParams } from "react-router-dom";
import { useSession } from "../auth";
import { AnswerPanel } from "../components/AnswerPanel";
import { SearchFilters } from "../components/SearchFilters";
import { SearchResultCard } from "../components/SearchResultCard";
import { searchPassages } from "../lib/api";
import { groupByConversation, indexingNotice } from "../lib/grouping";
import { useAnswerStream } from "../lib/answerStream";
import { activeFilterCount, toApiFilters, type FilterForm } from "../lib/filters";
import { plural } from "../lib/format";
import { nextResult, SEARCH_INPUT_ID } from "../lib/keyboard";
import { useSources, useWorkspaces } from "../lib/queries";
import { loadRecent, rememberQuery, saveRecent, suggestions } from "../lib/recent";
import { useDebounced } from "../lib/useDebounced";

/** The API's limit on a query; the box stops there instead of sending an error back. */
const MAX_QUERY = 1000;
/** How often to look again while passages wait for their embedding. */
const WHILE_INDEXING_MS = 3000;

const PARAMS: Record<keyof FilterForm, string> = {
  platform: "platform",
  role: "role",
  workspaceId: "workspace",
  dateFrom: "from",
  dateTo: "to",
  versions: "versions",
};

function filtersFrom(params: URLSearchParams): FilterForm {
  const entries = Object.entries(PARAMS).map(([key, name]) => [key, params.get(name) ?? ""]);
  return Object.fromEntries(entries) as FilterForm;
}

export function SearchPage() {
  const userId = useSession().user.id;
  const [params, setParams] = useSearchParams();
  const location = useLocation();
  const input = useRef<HTMLInputElement>(null);
  const [text, setText] = useState(params.get("q") ?? "");
  const [showFilters, setShowFilters] = useState(false);
  const [recent, setRecent] = useState(() => loadRecent(userId));
  const filters = useMemo(() => filtersFrom(params), [params]);
  const typed = useDebounced(text.trim(), 300);
  // Enter searches at once, without waiting for the typing pause.
  const [submitted, setSubmitted] = useState<string | null>(null);
  const query = submitted !== null && submitted === text.trim() ? submitted : typed;
  const list = useRef<HTMLOListElement>(null);
  const workspaces = useWorkspaces();
  const sources = useSources();
  const suggested = useMemo(
    () => suggestions(text, recent, (sources.data ?? []).map((s) => s.title)),
    [text, recent, sources.data],
  );

  useEffect(() => {
    if ((location.state as { focus?: boolean } | null)?.focus) input.current?.focus();
  }, [location.state]);

  useEffect(() => {
    const next = new URLSearchParams(params);
    if (query) next.set("q", query);
    else next.delete("q");
    if (next.toString() !== params.toString()) setParams(next, { replace: true });
  }, [query, params, setParams]);

  const apiFilters = useMemo(() => toApiFilters(filters), [filters]);
  const answer = useAnswerStream();
  const search = useQuery({
    queryKey: ["search", userId, query, apiFilters],
    queryFn: ({ signal }) => searchPassages(query, apiFilters, { signal, limit: 50 }),
    enabled: query.length > 0,
    placeholderData: keepPreviousData,
    // Passages still being embedded are found by keyword only: look again until they are
    // all indexed, so meaning matches appear without a reload (and nothing stays stale).
    refetchInterval: (q) => ((q.state.data?.pending_conversations ?? 0) > 0 ? WHILE_INDEXING_MS : false),
  });

  useEffect(() => {
    if (search.isSuccess && query && search.data.results.length > 0) {
      setRecent((previous) => {
        const next = rememberQuery(previous, query);
        saveRecent(userId, next);
        return next;
      });
    }
  }, [search.isSuccess, search.data, query, userId]);

  function setFilters(next: FilterForm) {
    const updated = new URLSearchParams(params);
    for (const [key, name] of Object.entries(PARAMS)) {
      const value = next[key as keyof FilterForm];
      if (value) updated.set(name, value);
      else updated.delete(name);
    }
    setParams(updated, { replace: true });
  }

  const results = search.data?.results ?? [];
  const hits = useMemo(() => groupByConversation(results), [results]);
  const pending = indexingNotice(search.data?.pending_conversations ?? 0);
  const origin = { from: `${location.pathname}${location.search}` };

  /** Arrow keys move between the results' titles, from the box and within the list. */
  function onArrow(event: KeyboardEvent) {
    const links = [...(list.current?.querySelectorAll<HTMLAnchorElement>("[data-result-link]") ?? [])];
    const current = links.findIndex((link) => link === document.activeElement);
    if (event.target === input.current && event.key !== "ArrowDown") return;
    const next = nextResult(event.key, current, links.length);
    if (next === null) return;
    if (event.key === "ArrowUp" && current === 0) {
      event.preventDefault();
      input.current?.focus();
      return;
    }
    event.preventDefault();
    links[next]?.focus();
  }
  const count = activeFilterCount(filters);
  return (
    <section aria-labelledby="search-title" className="search-page">
      <h1 id="search-title" className="visually-hidden">
        Search
      </h1>
      <form
        role="search"
        className="search-bar"
        onSubmit={(e) => {
          e.preventDefault();
          setSubmitted(text.trim());
        }}
      >
        <label htmlFor={SEARCH_INPUT_ID} className="visually-hidden">
          Search your conversations
        </label>
        <input
          id={SEARCH_INPUT_ID}
          ref={input}
          type="search"
          list="recent-searches"
          autoComplete="off"
          placeholder="Search your conversations  ( / or Ctrl+K )"
          value={text}
          maxLength={MAX_QUERY}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onArrow}
          aria-describedby="search-status"
        />
        <datalist id="recent-searches">
          {suggested.map((q) => (
            <option key={q} value={q} />
          ))}
        </datalist>
        <button
          type="button"
          className="primary"
          disabled={!text.trim()}
          title="Answer from your conversations, with citations"
          onClick={() => answer.ask(text.trim(), apiFilters)}
        >
          Ask
        </button>
        <button type="button" aria-expanded={showFilters} aria-controls="search-filters" onClick={() => setShowFilters((s) => !s)}>
          Filters{count > 0 ? ` (${count})` : ""}
        </button>
      </form>
      <div id="search-filters" hidden={!showFilters}>
        <SearchFilters value={filters} onChange={setFilters} workspaces={workspaces.data ?? []} />
      </div>
      <p id="search-status" className="muted small" role="status" aria-live="polite">
        {!query
          ? "Type to search: words match exactly, and passages with the same meaning are found too."
          : search.isError
            ? ""
            : search.isFetching && !search.data
              ? "Searching…"
              : search.data
                ? `${plural(hits.length, "conversation")}${search.data.semantic ? "" : " (keyword only)"}`
                : ""}
        {text.length >= MAX_QUERY && " A query can be at most 1,000 characters."}
      </p>
      {query && pending && (
        <p className="notice small" role="status">
          {pending}
        </p>
      )}
      {answer.state.status !== "idle" && <AnswerPanel state={answer.state} onClose={answer.clear} />}
      {search.isError && (
        <p role="alert" className="error">
          {search.error.message}
        </p>
      )}
      {query && search.data && results.length === 0 && (
        <p className="empty">Nothing found for “{query}”. Try other words, or fewer filters.</p>
      )}
      <ol ref={list} className="results" aria-label="Results" aria-busy={search.isFetching} onKeyDown={onArrow}>
        {hits.map((hit) => (
          <SearchResultCard key={hit.sourceId} hit={hit} query={query} origin={origin} />
        ))}
      </ol>
    </section>
  );
}
