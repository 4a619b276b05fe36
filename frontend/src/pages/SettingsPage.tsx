import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSession } from "../auth";
import { AccountSettings } from "../components/AccountSettings";
import { forgetKey, storedKey, storeKey, testKey, type Provider } from "../lib/api";
import { formatWhen } from "../lib/format";
import { useWorkspaces } from "../lib/queries";
import { listEmbeddingModels, setWorkspaceModel, type WorkspaceRow } from "../lib/rpc";
import { applyTheme, storedTheme, storeTheme, type ThemeChoice } from "../lib/theme";

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

function WorkspaceModelRow({ workspace }: { workspace: WorkspaceRow }) {
  const queryClient = useQueryClient();
  const models = useQuery({ queryKey: ["embedding-models"], queryFn: listEmbeddingModels, staleTime: Infinity });
  const change = useMutation({
    mutationFn: (modelId: number) => setWorkspaceModel(workspace.id, modelId),
    onSuccess: async (changed) => {
      if (!changed) throw new Error("Only the workspace's owner can change its model.");
      await queryClient.invalidateQueries({ queryKey: ["workspaces"] });
    },
  });
  const id = `model-${workspace.id}`;
  return (
    <li className="workspace-row">
      <label htmlFor={id}>
        {workspace.name}
        {workspace.is_personal ? " (your personal workspace)" : ""}
      </label>
      <select
        id={id}
        value={workspace.embedding_model_id ?? ""}
        disabled={workspace.role !== "owner" || change.isPending || !models.data}
        onChange={(e) => change.mutate(Number(e.target.value))}
      >
        {models.data?.map((m) => (
          <option key={m.id} value={m.id}>
            {m.provider} · {m.name} ({m.dims}d)
          </option>
        ))}
      </select>
      {change.isError && <p role="alert" className="error small">{change.error.message}</p>}
      {change.isSuccess && <p role="status" className="small muted">Saved; passages are re-embedded in the background.</p>}
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
      <section className="card" aria-labelledby="models-title">
        <h2 id="models-title">Embedding model per workspace</h2>
        {workspaces.isError && <p role="alert" className="error">{workspaces.error.message}</p>}
        <ul className="plain">
          {workspaces.data?.map((w) => <WorkspaceModelRow key={w.id} workspace={w} />)}
        </ul>
      </section>
      <AccountSettings />
      <section className="card" aria-labelledby="look-title">
        <h2 id="look-title">Appearance</h2>
        <ThemePicker />
      </section>
    </section>
  );
}
