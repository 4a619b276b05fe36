/** `/` focuses search, unless the person is typing somewhere already; Ctrl+K (Cmd+K on a
 * Mac) focuses it from anywhere, fields included, as in most search-first apps. */
export function shouldFocusSearch(
  event: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "target">,
): boolean {
  if (event.key.toLowerCase() === "k" && (event.ctrlKey || event.metaKey) && !event.altKey) return true;
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return false;
  const target = event.target as HTMLElement | null;
  if (!target || typeof target.closest !== "function") return true;
  return !target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
}

/** The result an arrow key moves to in a list of `count` results (-1: none chosen yet);
 * null when the key is not an arrow or there is nothing to move to. */
export function nextResult(key: string, current: number, count: number): number | null {
  if (count === 0) return null;
  if (key === "ArrowDown") return current < 0 ? 0 : Math.min(current + 1, count - 1);
  if (key === "ArrowUp") return current <= 0 ? 0 : current - 1;
  if (key === "Home") return 0;
  if (key === "End") return count - 1;
  return null;
}

export const SEARCH_INPUT_ID = "search-input";
