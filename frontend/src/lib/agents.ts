/** Personal access tokens (Supabase RPCs) and context packs (the API), for agents. */
import { apiFetch } from "./api";
import { supabase } from "./supabase";

export type TokenScope = "read" | "read-write";

export interface AccessTokenRow {
  id: string;
  name: string;
  token_prefix: string;
  scope: TokenScope;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** What create_access_token returns: the plaintext token, shown once and never again. */
export interface CreatedToken {
  id: string;
  token: string;
  token_prefix: string;
  expires_at: string;
}

export interface Pack {
  title: string;
  markdown: string;
  tokens: number;
  budget: number;
  truncated: boolean;
  cited: number[];
}

async function rpc<T>(fn: string, args?: Record<string, unknown>): Promise<T> {
  const { data, error } = await supabase().rpc(fn, args);
  if (error) throw new Error(error.message || `${fn} failed`);
  return data as T;
}

export const listAccessTokens = () => rpc<AccessTokenRow[]>("list_access_tokens");

export async function createAccessToken(name: string, scope: TokenScope, days: number): Promise<CreatedToken> {
  const rows = await rpc<CreatedToken[]>("create_access_token", {
    name,
    scope,
    expires_in_days: days,
  });
  const made = rows[0];
  if (!made) throw new Error("the token was not created");
  return made;
}

export const revokeAccessToken = (id: string) => rpc<boolean>("revoke_access_token", { token_id: id });

export type TokenState = "active" | "revoked" | "expired";

export function tokenState(row: AccessTokenRow, now: Date = new Date()): TokenState {
  if (row.revoked_at) return "revoked";
  return new Date(row.expires_at) <= now ? "expired" : "active";
}

export function conversationPack(conversationId: string, budget: number): Promise<Pack> {
  return apiFetch<Pack>("/v1/packs", {
    method: "POST",
    body: JSON.stringify({ conversation_id: conversationId, budget }),
  });
}

/** A file name for a downloaded pack: the title's words, lower-cased, else "knitter-pack". */
export function packFileName(title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return `${slug || "knitter-pack"}.md`;
}
