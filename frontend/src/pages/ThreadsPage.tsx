import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { GranularityControl } from "../components/GranularityControl";
import { ThreadListItem } from "../components/ThreadListItem";
import { invalidateThreads, useThreadSettings, useTopicThreads, useWorkspaces } from "../lib/queries";
import { mergeTopicThreads, type WorkspaceRow } from "../lib/rpc";
import { pickWorkspace } from "../lib/threads";

function WorkspacePicker({
  workspaces,
  value,
  onChange,
}: {
  workspaces: WorkspaceRow[];
  value: string;
  onChange: (id: string) => void;
}) {
  if (workspaces.length < 2) return null;
  return (
    <label className="workspace-picker">
      Workspace
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {workspaces.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function ThreadList({ workspace }: { workspace: WorkspaceRow }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const unthreaded = useThreadSettings(workspace.id).data?.unthreaded ?? 0;
  const threads = useTopicThreads(workspace.id, unthreaded > 0);
  // In the order checked: the first one keeps its title and absorbs the others.
  const [selected, setSelected] = useState<string[]>([]);
  const merge = useMutation({
    // Threads regrouped away since they were checked are left out.
    mutationFn: () => mergeTopicThreads(selected.filter((id) => threads.data?.some((t) => t.id === id))),
    onSuccess: async (survivor) => {
      setSelected([]);
      await invalidateThreads(queryClient);
      navigate(`/threads/${survivor}`);
    },
  });

  const toggle = (id: string, on: boolean) =>
    setSelected((all) => (on ? [...all.filter((x) => x !== id), id] : all.filter((x) => x !== id)));

  if (threads.isPending) return <p aria-busy="true">Loading threads…</p>;
  if (threads.isError) return <p role="alert" className="error">{threads.error.message}</p>;
  if (threads.data.length === 0) {
    return (
      <p className="empty">
        {unthreaded > 0
          ? "Your conversations are being grouped into threads…"
          : "No threads yet. Imported conversations are grouped by topic automatically."}
      </p>
    );
  }
  return (
    <>
      <div className="merge-bar">
        <button
          type="button"
          onClick={() => merge.mutate()}
          disabled={selected.length < 2 || merge.isPending || workspace.role === "viewer"}
        >
          {merge.isPending ? "Merging…" : "Merge selected"}
        </button>
        <span className="muted small" role="status">
          {selected.length > 0
            ? `${selected.length} selected; the first one checked keeps its title.`
            : "Check two or more threads to merge them."}
        </span>
      </div>
      {merge.isError && (
        <p role="alert" className="error">
          {merge.error.message}
        </p>
      )}
      <ul className="threads" aria-label="Topic threads">
        {threads.data.map((thread) => (
          <ThreadListItem
            key={thread.id}
            thread={thread}
            selected={selected.includes(thread.id)}
            onToggle={(on) => toggle(thread.id, on)}
          />
        ))}
      </ul>
    </>
  );
}

/** Conversations grouped by topic, per workspace: browse, merge, and regroup them. */
export function ThreadsPage() {
  const [params, setParams] = useSearchParams();
  const workspaces = useWorkspaces();
  const workspace = pickWorkspace(workspaces.data ?? [], params.get("workspace"));

  function choose(id: string) {
    const next = new URLSearchParams(params);
    next.set("workspace", id);
    setParams(next, { replace: true });
  }

  return (
    <section aria-labelledby="threads-title" className="threads-page">
      <h1 id="threads-title">Threads</h1>
      {workspaces.isPending && <p aria-busy="true">Loading…</p>}
      {workspaces.isError && <p role="alert" className="error">{workspaces.error.message}</p>}
      {workspace && (
        <>
          <WorkspacePicker workspaces={workspaces.data ?? []} value={workspace.id} onChange={choose} />
          <GranularityControl key={workspace.id} workspace={workspace} />
          <ThreadList key={`list-${workspace.id}`} workspace={workspace} />
        </>
      )}
    </section>
  );
}
