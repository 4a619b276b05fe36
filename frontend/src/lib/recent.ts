/** Recent searches, per person, newest first: the suggestions under the search box. */
const MAX = 8;

export function rememberQuery(previous: string[], query: string): string[] {
  const trimmed = query.trim();
  if (trimmed.length < 2) return previous;
  const rest = previous.filter((q) => q.toLowerCase() !== trimmed.toLowerCase());
  return [trimmed, ...rest].slice(0, MAX);
}

export function loadRecent(userId: string, storage: Pick<Storage, "getItem"> = localStorage): string[] {
  try {
    const value: unknown = JSON.parse(storage.getItem(`knitter.recent.${userId}`) ?? "[]");
    return Array.isArray(value) ? value.filter((q): q is string => typeof q === "string").slice(0, MAX) : [];
  } catch {
    return [];
  }
}

export function saveRecent(userId: string, queries: string[], storage: Pick<Storage, "setItem"> = localStorage): void {
  storage.setItem(`knitter.recent.${userId}`, JSON.stringify(queries.slice(0, MAX)));
}

/** Suggestions for what is typed: recent searches that start with it, then source titles
 * that contain it, without repeats, at most `max`. */
export function suggestions(typed: string, recent: string[], titles: string[], max = 8): string[] {
  const needle = typed.trim().toLowerCase();
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (value: string) => {
    const key = value.toLowerCase();
    if (!seen.has(key) && key !== needle) {
      seen.add(key);
      out.push(value);
    }
  };
  for (const q of recent) if (!needle || q.toLowerCase().startsWith(needle)) add(q);
  if (needle.length >= 2) for (const t of titles) if (t.toLowerCase().includes(needle)) add(t);
  return out.slice(0, max);
}
