import type { Json } from "./database.types";

/** Pasted links for the import dialog: one or more http(s) URLs, separated by white space
 * or commas. Anything else is reported, not sent. */
export interface ParsedLinks {
  urls: string[];
  invalid: string[];
}

export const MAX_LINKS = 20;

export function parseLinks(text: string): ParsedLinks {
  const urls: string[] = [];
  const invalid: string[] = [];
  for (const token of text.split(/[\s,]+/).filter(Boolean)) {
    let url: URL | null = null;
    try {
      url = new URL(token);
    } catch {
      url = null;
    }
    if (url && (url.protocol === "http:" || url.protocol === "https:") && url.hostname) {
      if (!urls.includes(url.href)) urls.push(url.href);
    } else {
      invalid.push(token);
    }
  }
  return { urls, invalid };
}

export type LinkKind = "chatgpt-share" | "youtube" | "web";

export function linkKind(href: string): LinkKind {
  const url = new URL(href);
  const host = url.hostname.replace(/^www\.|^m\./, "");
  if ((host === "chatgpt.com" || host === "chat.openai.com") && url.pathname.startsWith("/share/")) {
    return "chatgpt-share";
  }
  if (host === "youtu.be" || host === "youtube.com" || host === "music.youtube.com") {
    return "youtube";
  }
  return "web";
}

/** A link to the original at the passage: YouTube passages carry their start in seconds. */
export function originalAt(url: string | null, metadata: Json | null): string | null {
  if (!url) return null;
  const start = metadata && typeof metadata === "object" && !Array.isArray(metadata) ? metadata["start"] : null;
  if (typeof start !== "number" || linkKind(url) !== "youtube") return url;
  const target = new URL(url);
  target.searchParams.set("t", `${Math.floor(start)}`);
  return target.href;
}

/** The conversation at one passage (the page scrolls to it and highlights it), with the
 * search words to mark there when it was opened from a search. */
export function passagePath(passage: { source_id: string; chunk_id: number }, query = ""): string {
  const params = new URLSearchParams({ passage: `${passage.chunk_id}` });
  if (query.trim()) params.set("q", query.trim());
  return `/sources/${passage.source_id}?${params.toString()}`;
}
