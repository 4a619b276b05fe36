/** How a conversation's project and custom assistant are shown. Exports often name them
 * only by id (ChatGPT's export never names a project or a custom GPT): the id is then shown
 * shortened, never replaced by an invented name. */

type Grouped = { platform: string; project_id?: string | null; project?: string | null };

export function projectLabel(source: Grouped): string | null {
  if (!source.project_id) return null;
  const name = source.project?.trim();
  if (name) return name;
  return `${source.platform === "chatgpt" ? "ChatGPT" : "Unnamed"} project ${shortId(source.project_id)}`;
}

/** A ChatGPT custom GPT or a Gemini Gem, by name where the export gives one, else by id. */
export function assistantLabel(platform: string, assistant: string | null | undefined): string | null {
  const value = assistant?.trim();
  if (!value) return null;
  if (platform === "gemini") return `Gem: ${value}`;
  if (platform === "chatgpt") return `Custom GPT: ${/^g-[A-Za-z0-9]+$/.test(value) ? shortId(value) : value}`;
  return value;
}

/** Where the custom GPT itself is (its page on chatgpt.com shows its name). */
export function assistantUrl(platform: string, assistant: string | null | undefined): string | null {
  return platform === "chatgpt" && assistant && /^g-[A-Za-z0-9]+$/.test(assistant)
    ? `https://chatgpt.com/g/${assistant}`
    : null;
}

function shortId(id: string): string {
  const match = /^(g-p-|g-)?([0-9A-Za-z-]+)$/.exec(id);
  if (!match) return id;
  const [, prefix = "", rest = ""] = match;
  return rest.length > 10 ? `${prefix}${rest.slice(0, 8)}…` : id;
}

export function projectLink(projectId: string): string {
  return `/sources?project=${encodeURIComponent(projectId)}`;
}
