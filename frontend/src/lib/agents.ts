/** Personal access tokens (Supabase RPCs) and context packs (the API), for agents. */
import { apiFetch } from "./api";
import type { components } from "./api.types";
import { call, type Present, type RpcRow } from "./rpc";

export type TokenScope = "read" | "read-write";

type ApiSchemas = components["schemas"];

export type AccessTokenRow = Omit<
  Present<RpcRow<"list_access_tokens">, "id" | "name" | "token_prefix" | "created_at" | "expires_at">,
  "scope"
> & { scope: TokenScope };

/** What create_access_token returns: the plaintext token, shown once and never again. */
export type CreatedToken = Present<RpcRow<"create_access_token">, "id" | "token" | "token_prefix" | "expires_at">;

export type Pack = ApiSchemas["PackResponse"];

export const listAccessTokens = () => call<"list_access_tokens", AccessTokenRow[]>("list_access_tokens");

export async function createAccessToken(name: string, scope: TokenScope, days: number): Promise<CreatedToken> {
  const rows = await call<"create_access_token", CreatedToken[]>("create_access_token", {
    name,
    scope,
    expires_in_days: days,
  });
  const made = rows[0];
  if (!made) throw new Error("the token was not created");
  return made;
}

export const revokeAccessToken = (id: string) =>
  call<"revoke_access_token", boolean>("revoke_access_token", { token_id: id });

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
