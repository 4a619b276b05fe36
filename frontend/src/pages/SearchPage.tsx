import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { useLocation, useSearchParams } from "react-router-dom";
import { useSession } from "../auth";
import { AnswerPanel } from "../components/AnswerPanel";
import { SearchFilters } from "../components/SearchFilters";
import { SearchResultCard } from "../components/SearchResultCard";
import { searchPassages } from "../lib/api";
import { useAnswerStream } from "../lib/answerStream";
import { activeFilterCount, toApiFilters, type FilterForm } from "../lib/filters";
import { plural } from "../lib/format";
import { SEARCH_INPUT_ID } from "../lib/keyboard";
import { useSources, useWorkspaces } from "../lib/queries";
import { loadRecent, rememberQuery, saveRecent, suggestions } from "../lib/recent";
import { useDebounced } from "../lib/useDebounced";

const PARAMS: Record<keyof FilterForm, string> = {
  platform: "platform",
  role: "role",
  workspaceId: "workspace",
  dateFrom: "from",
  dateTo: "to",
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
  const query = useDebounced(text.trim(), 300);
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
    queryFn: ({ signal }) => searchPassages(query, apiFilters, { signal }),
    enabled: query.length > 0,
    placeholderData: keepPreviousData,
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
  const count = activeFilterCount(filters);
  return (
    <section aria-labelledby="search-title" className="search-page">
      <h1 id="search-title" className="visually-hidden">
        Search
      </h1>
      <form role="search" className="search-bar" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor={SEARCH_INPUT_ID} className="visually-hidden">
          Search your conversations
        </label>
        <input
          id={SEARCH_INPUT_ID}
          ref={input}
          type="search"
          list="recent-searches"
          autoComplete="off"
          placeholder="Search your conversations  ( / )"
          value={text}
          onChange={(e) => setText(e.target.value)}
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
                ? `${plural(results.length, "result")}${search.data.semantic ? "" : " (keyword only)"}`
                : ""}
      </p>
      {answer.state.status !== "idle" && <AnswerPanel state={answer.state} onClose={answer.clear} />}
      {search.isError && (
        <p role="alert" className="error">
          {search.error.message}
        </p>
      )}
      {query && search.data && results.length === 0 && (
        <p className="empty">Nothing found for “{query}”. Try other words, or fewer filters.</p>
      )}
      <ol className="results" aria-label="Results" aria-busy={search.isFetching}>
        {results.map((result) => (
          <SearchResultCard key={result.chunk_id} result={result} />
        ))}
      </ol>
    </section>
  );
}
