import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSession } from "../auth";
import {
  createAccessToken,
  listAccessTokens,
  revokeAccessToken,
  tokenState,
  type CreatedToken,
  type TokenScope,
} from "../lib/agents";
import { formatWhen } from "../lib/format";

/** Settings: personal access tokens for MCP clients and other agents. The new token is shown
 * once, right after it is made; the list shows only its first characters. */
export function AccessTokens() {
  const session = useSession();
  const queryClient = useQueryClient();
  const queryKey = ["access-tokens", session.user.id];
  const tokens = useQuery({ queryKey, queryFn: listAccessTokens });
  const [name, setName] = useState("");
  const [scope, setScope] = useState<TokenScope>("read");
  const [days, setDays] = useState(90);
  const [made, setMade] = useState<CreatedToken | null>(null);
  const [copied, setCopied] = useState(false);
  const create = useMutation({
    mutationFn: () => createAccessToken(name.trim(), scope, days),
    onSuccess: (token) => {
      setMade(token);
      setCopied(false);
      setName("");
      void queryClient.invalidateQueries({ queryKey });
    },
  });
  const revoke = useMutation({
    mutationFn: revokeAccessToken,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey }),
  });
  const error = tokens.error ?? create.error ?? revoke.error;

  if (session.user.is_anonymous === true) {
    return <p className="muted">Guests cannot make access tokens; create an account first.</p>;
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (name.trim()) create.mutate();
  }

  async function copy(token: string) {
    await navigator.clipboard.writeText(token);
    setCopied(true);
  }

  return (
    <div className="access-tokens">
      <p className="small muted">
        For MCP clients (Claude Desktop, Claude Code, Cursor) and other agents: <code>knitter mcp</code> with{" "}
        <code>KNITTER_TOKEN</code>, or <code>Authorization: Bearer</code> on <code>/mcp</code>. An agent sees what you
        see; a read-only token cannot save notes.
      </p>
      <form className="key-form" onSubmit={submit} aria-label="New access token">
        <label>
          Name
          <input value={name} maxLength={100} placeholder="Claude Desktop" onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Scope
          <select value={scope} onChange={(e) => setScope(e.target.value as TokenScope)}>
            <option value="read">Read only</option>
            <option value="read-write">Read and write notes</option>
          </select>
        </label>
        <label>
          Expires in (days)
          <input type="number" min={1} max={365} value={days} onChange={(e) => setDays(Number(e.target.value))} />
        </label>
        <button type="submit" disabled={!name.trim() || create.isPending}>
          Create token
        </button>
      </form>
      {made && (
        <div className="new-token" role="status">
          <p className="small">Copy this token now: it will not be shown again.</p>
          <code aria-label="New access token value">{made.token}</code>{" "}
          <button type="button" onClick={() => void copy(made.token)}>
            {copied ? "Copied" : "Copy"}
          </button>{" "}
          <button type="button" onClick={() => setMade(null)}>
            Done
          </button>
        </div>
      )}
      {error && (
        <p role="alert" className="error small">
          {error.message}
        </p>
      )}
      <ul className="plain" aria-label="Access tokens">
        {tokens.data?.map((t) => {
          const state = tokenState(t);
          return (
            <li key={t.id} className="key-row">
              <strong>{t.name}</strong> <code>{t.token_prefix}…</code>{" "}
              <span className="small muted">
                {t.scope === "read" ? "read only" : "read-write"} · {state === "active" ? `expires ${formatWhen(t.expires_at)}` : state}
                {t.last_used_at ? ` · last used ${formatWhen(t.last_used_at)}` : " · never used"}
              </span>{" "}
              {state === "active" && (
                <button type="button" className="danger" onClick={() => revoke.mutate(t.id)} disabled={revoke.isPending}>
                  Revoke
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
