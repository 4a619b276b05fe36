import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSession } from "../auth";
import { AccessTokens } from "../components/AccessTokens";
import { AccountSettings } from "../components/AccountSettings";
import { WorkspacesSection } from "../components/WorkspacesSection";
import {
  embeddingStatus,
  forgetKey,
  listEmbeddingModels,
  storedKey,
  storeKey,
  switchEmbeddingModel,
  testKey,
  type EmbeddingModel,
  type Provider,
} from "../lib/api";
import { formatWhen } from "../lib/format";
import { useWorkspaces } from "../lib/queries";
import { type WorkspaceRow } from "../lib/rpc";
import { applyTheme, storedTheme, storeTheme, type ThemeChoice } from "../lib/theme";

const REEMBED_POLL_MS = 2000;

const PROVIDERS: { id: Provider; name: string }[] = [
  { id: "openai", name: "OpenAI" },
  { id: "gemini", name: "Gemini" },
];

function ApiKeyRow({ provider, name }: { provider: Provider; name: string }) {
  const userId = useSession().user.id;
  const queryClient = useQueryClient();
  const queryKey = ["key", userId, provider];
  const info = useQuery({ queryKey, queryFn: () => storedKey(provider) });
  const [draft, setDraft] = useState("");
  const save = useMutation({
    mutationFn: () => storeKey(provider, draft),
    onSuccess: (data) => {
      setDraft("");
      queryClient.setQueryData(queryKey, data);
    },
  });
  const forget = useMutation({
    mutationFn: () => forgetKey(provider),
    onSuccess: () => queryClient.setQueryData(queryKey, null),
  });
  const test = useMutation({ mutationFn: () => testKey(provider) });
  const error = info.error ?? save.error ?? forget.error ?? test.error;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (draft.trim()) save.mutate();
  }

  return (
    <li className="key-row">
      <form className="key-form" onSubmit={submit}>
        <label>
          {name} API key
          <input
            type="password"
            autoComplete="off"
            placeholder={info.data ? `•••• ${info.data.last_four}` : "Not set"}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
          />
        </label>
        <button type="submit" disabled={!draft.trim() || save.isPending}>
          Save
        </button>
        <button type="button" onClick={() => test.mutate()} disabled={test.isPending}>
          {test.isPending ? "Testing…" : "Test"}
        </button>
        {info.data && (
          <button type="button" className="danger" onClick={() => forget.mutate()} disabled={forget.isPending}>
            Remove
          </button>
        )}
      </form>
      <p className="small muted" role="status">
        {info.data ? `Stored, ending in ${info.data.last_four}, updated ${formatWhen(info.data.updated_at)}.` : "No key stored; the server's key is used if it has one."}
        {test.data && (
          <span className={test.data.ok ? "ok" : "error"}>
            {" "}
            {test.data.ok ? "✓" : "✗"} {test.data.message} ({test.data.model})
          </span>
        )}
      </p>
      {error && (
        <p role="alert" className="error small">
          {error.message}
        </p>
      )}
    </li>
  );
}

const label = (m: EmbeddingModel) => `${m.provider} · ${m.name} (${m.dims}d)`;

/** Search keeps the current model while the passages are re-embedded: show how far it is. */
function WorkspaceModelRow({ workspace }: { workspace: WorkspaceRow }) {
  const userId = useSession().user.id;
  const queryClient = useQueryClient();
  const models = useQuery({ queryKey: ["embedding-models", userId], queryFn: listEmbeddingModels });
  const statusKey = ["embedding-status", userId, workspace.id];
  const status = useQuery({
    queryKey: statusKey,
    queryFn: () => embeddingStatus(workspace.id),
    refetchInterval: (query) => (query.state.data?.next_model ? REEMBED_POLL_MS : false),
  });
  const change = useMutation({
    mutationFn: (modelId: number) => switchEmbeddingModel(workspace.id, modelId),
    onSuccess: async (data) => {
      queryClient.setQueryData(statusKey, data);
      await queryClient.invalidateQueries({ queryKey: ["workspaces"] });
    },
  });
  const current = status.data?.model;
  const next = status.data?.next_model ?? null;
  // Models this server can embed with, and the workspace's own even when it cannot.
  const offered = models.data?.filter((m) => m.available || m.id === current?.id || m.id === next?.id);
  const canChange = workspace.role !== "viewer";
  const id = `model-${workspace.id}`;
  const error = models.error ?? status.error ?? change.error;
  return (
    <li className="workspace-row">
      <label htmlFor={id}>
        {workspace.name}
        {workspace.is_personal ? " (your personal workspace)" : ""}
      </label>
      <select
        id={id}
        value={next?.id ?? current?.id ?? ""}
        disabled={!canChange || change.isPending || !offered || !status.data}
        onChange={(e) => change.mutate(Number(e.target.value))}
      >
        {offered?.map((m) => (
          <option key={m.id} value={m.id}>
            {label(m)}
            {m.available ? "" : " (unavailable on this server)"}
          </option>
        ))}
      </select>
      {!canChange && <p className="small muted">Only editors and owners can change the model.</p>}
      {next && current && status.data && (
        <p role="status" className="small muted reembedding">
          <progress max={Math.max(status.data.passages, 1)} value={status.data.embedded} />
          Re-embedding {status.data.embedded} / {status.data.passages} with {label(next)}; search
          uses {label(current)} until every passage is done.
        </p>
      )}
      {error && (
        <p role="alert" className="error small">
          {error.message}
        </p>
      )}
    </li>
  );
}

function ThemePicker() {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme);
  const pick = (next: ThemeChoice) => {
    setChoice(next);
    storeTheme(next);
    applyTheme(next);
  };
  return (
    <fieldset className="theme-picker">
      <legend>Theme</legend>
      {(["light", "dark", "system"] as const).map((option) => (
        <label key={option} className="inline">
          <input type="radio" name="theme" value={option} checked={choice === option} onChange={() => pick(option)} />
          {option[0]?.toUpperCase()}{option.slice(1)}
        </label>
      ))}
    </fieldset>
  );
}

export function SettingsPage() {
  const session = useSession();
  const workspaces = useWorkspaces();
  const guest = session.user.is_anonymous === true;
  return (
    <section aria-labelledby="settings-title" className="settings">
      <h1 id="settings-title">Settings</h1>
      <section className="card" aria-labelledby="keys-title">
        <h2 id="keys-title">API keys</h2>
        {guest ? (
          <p className="muted">Guests cannot store API keys; create an account first.</p>
        ) : (
          <ul className="plain">
            {PROVIDERS.map((p) => (
              <ApiKeyRow key={p.id} provider={p.id} name={p.name} />
            ))}
          </ul>
        )}
      </section>
      <WorkspacesSection />
      <section className="card" aria-labelledby="models-title">
        <h2 id="models-title">Embedding model per workspace</h2>
        {workspaces.isError && <p role="alert" className="error">{workspaces.error.message}</p>}
        <ul className="plain">
          {workspaces.data?.map((w) => <WorkspaceModelRow key={w.id} workspace={w} />)}
        </ul>
      </section>
      <section className="card" aria-labelledby="tokens-title">
        <h2 id="tokens-title">Access tokens for agents</h2>
        <AccessTokens />
      </section>
      <AccountSettings />
      <section className="card" aria-labelledby="look-title">
        <h2 id="look-title">Appearance</h2>
        <ThemePicker />
      </section>
    </section>
  );
}
