/** `/` focuses search, unless the person is typing somewhere already. */
export function shouldFocusSearch(event: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "target">): boolean {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return false;
  const target = event.target as HTMLElement | null;
  if (!target || typeof target.closest !== "function") return true;
  return !target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
}

export const SEARCH_INPUT_ID = "search-input";
